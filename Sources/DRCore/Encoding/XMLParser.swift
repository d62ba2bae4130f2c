/// A small, strict, non-validating XML parser. It never resolves external entities or DTDs (so
/// a hostile response cannot read files or expand billions of laughs) and limits nesting depth.
/// What it accepts is well-formed XML 1.0 (https://www.w3.org/TR/xml/): UTF-8 text of XML
/// characters, names that are names, references that are references, comments and processing
/// instructions that end. It refuses more than XML does — any DOCTYPE, entities other than the
/// five predefined and character references — never less, so a truncated or corrupted response
/// is an error rather than a different value.
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
        try checkCharacters(bytes)
        var parser = XMLDocumentParser(bytes: bytes)
        return try parser.document()
    }

    public static func parse(_ text: String) throws -> XMLNode {
        try parse(Array(text.utf8))
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    /// document ::= prolog element Misc* (§2.1), after an optional UTF-8 byte order mark.
    private mutating func document() throws -> XMLNode {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        if starts(with: "<?xml"), index + 5 < bytes.count, XMLCharacters.isSpace(bytes[index + 5]) { try declaration() }
        try skipMisc()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "<") else { throw fail("expected the root element") }
        let root = try element(depth: 0)
        try skipMisc()
        guard index == bytes.count else { throw fail("content after the root element") }
        return root
    }

    /// XMLDecl (§2.8): version 1.x, optionally encoding UTF-8 and standalone yes/no, in that order.
    private mutating func declaration() throws {
        index += 5
        var seen: [String] = []
        while true {
            let spaced = skipWhitespace()
            if starts(with: "?>") { index += 2; break }
            guard spaced, index < bytes.count else { throw fail("expected '?>' to end the XML declaration") }
            let pseudo = try name()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { throw fail("expected '=' after \(pseudo)") }
            index += 1
            skipWhitespace()
            let value = try quoted()
            let valid: Bool
            switch pseudo {
            case "version": valid = seen.isEmpty && value.hasPrefix("1.") && value.count > 2 && value.dropFirst(2).allSatisfy(\.isASCIIDigit)
            case "encoding": valid = seen == ["version"] && value.lowercased() == "utf-8"
            case "standalone": valid = seen.first == "version" && !seen.contains("standalone") && (value == "yes" || value == "no")
            default: valid = false
            }
            guard valid else { throw fail("unexpected \(pseudo) in the XML declaration (expected version 1.x, encoding UTF-8, standalone)") }
            seen.append(pseudo)
        }
        guard seen.first == "version" else { throw fail("the XML declaration has no version") }
    }

    /// Misc ::= Comment | PI | S. A DOCTYPE is refused: AWS never sends one, and its internal
    /// subset could declare entities this parser does not expand.
    private mutating func skipMisc() throws {
        while true {
            skipWhitespace()
            if starts(with: "<!--") { try comment() }
            else if starts(with: "<?") { try processingInstruction() }
            else if starts(with: "<!DOCTYPE") { throw fail("found a DOCTYPE, expected none (DTDs are not read)") }
            else { return }
        }
    }

    /// Comment (§2.5): no "--" inside, ends with "-->".
    private mutating func comment() throws {
        index += 4
        while index < bytes.count {
            if starts(with: "--") {
                guard index + 2 < bytes.count, bytes[index + 2] == UInt8(ascii: ">") else { throw fail("'--' inside a comment") }
                index += 3
                return
            }
            index += 1
        }
        throw fail("unterminated comment")
    }

    /// PI (§2.6): a target that is not "xml", then anything up to "?>".
    private mutating func processingInstruction() throws {
        index += 2
        let target = try name()
        guard target.lowercased() != "xml" else { throw fail("an XML declaration that is not at the start of the document") }
        if starts(with: "?>") { index += 2; return }
        guard skipWhitespace() else { throw fail("expected whitespace or '?>' after the processing instruction's target") }
        while index < bytes.count {
            if starts(with: "?>") { index += 2; return }
            index += 1
        }
        throw fail("unterminated processing instruction")
    }

    private mutating func element(depth: Int) throws -> XMLNode {
        guard depth < maximumDepth else { throw fail("nesting deeper than \(maximumDepth)") }
        index += 1   // "<"
        let qualified = try name()
        var node = XMLNode(name: Self.localName(qualified))
        while true {
            let spaced = skipWhitespace()
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
            guard spaced else { throw fail("expected whitespace before an attribute") }
            let attribute = try name()
            guard node.attributes[attribute] == nil else { throw fail("attribute \(attribute) given twice") }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { throw fail("expected '=' after attribute \(attribute)") }
            index += 1
            skipWhitespace()
            node.attributes[attribute] = try quoted()
        }

        var text: [UInt8] = []
        while true {
            guard index < bytes.count else { throw fail("unterminated element <\(qualified)>") }
            if bytes[index] != UInt8(ascii: "<") {
                let start = index
                while index < bytes.count, bytes[index] != UInt8(ascii: "<") {
                    // CharData (§2.4) may not contain "]]>".
                    if starts(with: "]]>") { throw fail("']]>' outside a CDATA section") }
                    index += 1
                }
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
                try comment()
            } else if starts(with: "<?") {
                try processingInstruction()
            } else if starts(with: "<!") {
                throw fail("expected an element, a comment or CDATA after '<!'")
            } else {
                node.children.append(try element(depth: depth + 1))
            }
        }
    }

    /// AttValue (§3.1): quoted, no '<', references replaced.
    private mutating func quoted() throws -> String {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
            throw fail("expected a quoted value")
        }
        let quote = bytes[index]
        index += 1
        let start = index
        while index < bytes.count, bytes[index] != quote {
            guard bytes[index] != UInt8(ascii: "<") else { throw fail("'<' inside a quoted value") }
            index += 1
        }
        guard index < bytes.count else { throw fail("unterminated quoted value") }
        let value = try Self.unescape(bytes[start..<index], at: start)
        index += 1
        return value
    }

    /// A Name (§2.3) that is a valid qualified name.
    private mutating func name() throws -> String {
        let start = index
        while index < bytes.count {
            let c = bytes[index]
            if XMLCharacters.isSpace(c) || c == UInt8(ascii: ">") || c == UInt8(ascii: "/") || c == UInt8(ascii: "=") { break }
            if c == UInt8(ascii: "?") && starts(with: "?>") { break }
            index += 1
        }
        let name = String(decoding: bytes[start..<index], as: UTF8.self)
        guard XMLCharacters.isQualifiedName(name) else {
            index = start
            throw fail("expected a name")
        }
        return name
    }

    private static func localName(_ qualified: String) -> String {
        guard let colon = qualified.lastIndex(of: ":") else { return qualified }
        return String(qualified[qualified.index(after: colon)...])
    }

    @discardableResult
    private mutating func skipWhitespace() -> Bool {
        let start = index
        while index < bytes.count, XMLCharacters.isSpace(bytes[index]) { index += 1 }
        return index > start
    }

    private func starts(with literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let pointer = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != pointer[offset] { return false }
        return true
    }

    private func fail(_ reason: String) -> ParseError { ParseError(offset: index, reason: reason) }

    /// The whole document is UTF-8 of XML characters (§2.2): checked once, before parsing, so
    /// that invalid bytes are refused rather than replaced.
    static func checkCharacters(_ bytes: [UInt8]) throws {
        var offset = 0
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                guard XMLCharacters.isChar(scalar) else {
                    throw ParseError(offset: offset, reason: "character U+\(String(scalar.value, radix: 16, uppercase: true)) is not allowed in XML")
                }
                offset += UTF8.width(scalar)
            case .emptyInput:
                return
            case .error:
                throw ParseError(offset: offset, reason: "bytes that are not UTF-8")
            }
        }
    }

    /// Replaces the five predefined entities and character references (§4.1: `&#` decimal digits
    /// `;` or `&#x` hex digits `;`, naming an XML character).
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
                guard let scalar = characterReference(entity) else {
                    throw ParseError(offset: offset + (i - slice.startIndex), reason: "unknown entity &\(entity);")
                }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            }
            i = semicolon + 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func characterReference(_ entity: String) -> Unicode.Scalar? {
        let value: UInt32?
        if entity.hasPrefix("#x") {
            let digits = entity.dropFirst(2)
            value = !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isHexDigit } ? UInt32(digits, radix: 16) : nil
        } else if entity.hasPrefix("#") {
            let digits = entity.dropFirst()
            value = !digits.isEmpty && digits.allSatisfy(\.isASCIIDigit) ? UInt32(digits) : nil
        } else {
            value = nil
        }
        guard let value, let scalar = Unicode.Scalar(value), XMLCharacters.isChar(scalar) else { return nil }
        return scalar
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    func trimmedWhitespace() -> String {
        var slice = Substring(self)
        while let c = slice.first, c.isWhitespace { slice.removeFirst() }
        while let c = slice.last, c.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
