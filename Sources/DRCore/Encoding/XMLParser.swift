/// A small, strict, non-validating XML parser. It never resolves external entities or DTDs (so
/// a hostile response cannot read files or expand billions of laughs) and limits nesting depth.
public struct XMLDocumentParser {
    public struct ParseError: Error, CustomStringConvertible, Sendable, Equatable {
        public let offset: Int
        public let reason: String
        public var description: String { "malformed XML at byte \(offset): \(reason)" }
    }

    private let bytes: [UInt8]
    private var index = 0
    private let maximumDepth = 256

    public static func parse(_ bytes: [UInt8]) throws -> XMLNode {
        var parser = XMLDocumentParser(bytes: bytes)
        return try parser.document()
    }

    public static func parse(_ text: String) throws -> XMLNode {
        try parse(Array(text.utf8))
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func document() throws -> XMLNode {
        skipMisc()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "<") else { throw fail("expected the root element") }
        let root = try element(depth: 0)
        skipMisc()
        guard index == bytes.count else { throw fail("content after the root element") }
        return root
    }

    /// Skips whitespace, the XML declaration, processing instructions, comments and a DOCTYPE.
    private mutating func skipMisc() {
        while true {
            skipWhitespace()
            if starts(with: "<?") { skip(past: "?>") }
            else if starts(with: "<!--") { skip(past: "-->") }
            else if starts(with: "<!DOCTYPE") { skip(past: ">") }
            else { return }
        }
    }

    private mutating func element(depth: Int) throws -> XMLNode {
        guard depth < maximumDepth else { throw fail("nesting deeper than \(maximumDepth)") }
        index += 1   // "<"
        let qualified = try name()
        var node = XMLNode(name: Self.localName(qualified))
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw fail("unterminated start tag <\(qualified)>") }
            if bytes[index] == UInt8(ascii: "/") {
                guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: ">") else { throw fail("expected '/>'") }
                index += 2
                return node
            }
            if bytes[index] == UInt8(ascii: ">") {
                index += 1
                break
            }
            let attribute = try name()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { throw fail("expected '=' after attribute \(attribute)") }
            index += 1
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
                throw fail("expected a quoted attribute value")
            }
            let quote = bytes[index]
            index += 1
            let start = index
            while index < bytes.count, bytes[index] != quote { index += 1 }
            guard index < bytes.count else { throw fail("unterminated attribute value") }
            node.attributes[attribute] = try Self.unescape(bytes[start..<index], at: start)
            index += 1
        }

        var text: [UInt8] = []
        while true {
            guard index < bytes.count else { throw fail("unterminated element <\(qualified)>") }
            if bytes[index] != UInt8(ascii: "<") {
                let start = index
                while index < bytes.count, bytes[index] != UInt8(ascii: "<") { index += 1 }
                text.append(contentsOf: Array(try Self.unescape(bytes[start..<index], at: start).utf8))
            } else if starts(with: "</") {
                index += 2
                let closing = try name()
                guard closing == qualified else { throw fail("</\(closing)> closes <\(qualified)>") }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else { throw fail("expected '>'") }
                index += 1
                node.text = node.children.isEmpty ? String(decoding: text, as: UTF8.self)
                                                  : String(decoding: text, as: UTF8.self).trimmedWhitespace()
                return node
            } else if starts(with: "<![CDATA[") {
                index += 9
                let start = index
                while index < bytes.count, !starts(with: "]]>") { index += 1 }
                guard index < bytes.count else { throw fail("unterminated CDATA") }
                text.append(contentsOf: bytes[start..<index])
                index += 3
            } else if starts(with: "<!--") {
                skip(past: "-->")
            } else if starts(with: "<?") {
                skip(past: "?>")
            } else {
                node.children.append(try element(depth: depth + 1))
            }
        }
    }

    private mutating func name() throws -> String {
        let start = index
        while index < bytes.count {
            let c = bytes[index]
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r")
                || c == UInt8(ascii: ">") || c == UInt8(ascii: "/") || c == UInt8(ascii: "=") { break }
            index += 1
        }
        guard index > start else { throw fail("expected a name") }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private static func localName(_ qualified: String) -> String {
        guard let colon = qualified.lastIndex(of: ":") else { return qualified }
        return String(qualified[qualified.index(after: colon)...])
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private func starts(with literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let pointer = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != pointer[offset] { return false }
        return true
    }

    private mutating func skip(past literal: StaticString) {
        while index < bytes.count, !starts(with: literal) { index += 1 }
        index = min(bytes.count, index + literal.utf8CodeUnitCount)
    }

    private func fail(_ reason: String) -> ParseError { ParseError(offset: index, reason: reason) }

    /// Replaces the five predefined entities and numeric character references.
    static func unescape(_ slice: ArraySlice<UInt8>, at offset: Int) throws -> String {
        guard slice.contains(UInt8(ascii: "&")) else { return String(decoding: slice, as: UTF8.self) }
        var out: [UInt8] = []
        var i = slice.startIndex
        while i < slice.endIndex {
            guard slice[i] == UInt8(ascii: "&") else { out.append(slice[i]); i += 1; continue }
            guard let semicolon = slice[i...].firstIndex(of: UInt8(ascii: ";")), semicolon - i <= 10 else {
                throw ParseError(offset: offset + (i - slice.startIndex), reason: "unterminated entity")
            }
            let entity = String(decoding: slice[(i + 1)..<semicolon], as: UTF8.self)
            switch entity {
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "amp": out.append(UInt8(ascii: "&"))
            case "quot": out.append(UInt8(ascii: "\""))
            case "apos": out.append(UInt8(ascii: "'"))
            default:
                let scalarValue: UInt32?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") { scalarValue = UInt32(entity.dropFirst(2), radix: 16) }
                else if entity.hasPrefix("#") { scalarValue = UInt32(entity.dropFirst(1)) }
                else { scalarValue = nil }
                guard let scalarValue, let scalar = Unicode.Scalar(scalarValue) else {
                    throw ParseError(offset: offset + (i - slice.startIndex), reason: "unknown entity &\(entity);")
                }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            }
            i = semicolon + 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    func trimmedWhitespace() -> String {
        var slice = Substring(self)
        while let c = slice.first, c.isWhitespace { slice.removeFirst() }
        while let c = slice.last, c.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
