import DRCore

// The parts of the canonical request, built as bytes: signing runs once per request and per
// retry, and String manipulation would dominate its cost.

/// The canonical URI: optionally normalised (RFC 3986 §5.2.4 dot segments, empty segments
/// dropped), then percent-encoded once more for every service but S3.
enum CanonicalURI {
    static func make(_ path: String, normalize: Bool, doubleEncode: Bool) -> String {
        let normalized = normalize ? normalizePath(path) : path
        // Fast path: nothing to encode (the usual "/" or "/bucket/key").
        if normalized.utf8.allSatisfy({ URIEncoding.isUnreserved($0) || $0 == 0x2F }) { return normalized }
        return URIEncoding.encode(normalized, keepSlash: true, keepEscapes: !doubleEncode)
    }

    static func normalizePath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        // Only "//", "/." and "/.." need work; scan bytes (Foundation's contains is slow here).
        var previousWasSlash = false
        var needsWork = false
        for byte in path.utf8 {
            if previousWasSlash && (byte == 0x2F || byte == 0x2E) { needsWork = true; break }
            previousWasSlash = byte == 0x2F
        }
        guard needsWork else { return path }
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        var result = "/" + segments.joined(separator: "/")
        let endsInDirectory = path.hasSuffix("/") || path.hasSuffix("/.") || path.hasSuffix("/..")
        if endsInDirectory && !segments.isEmpty { result += "/" }
        return result
    }
}

/// The canonical query string: each name and value decoded then strictly re-encoded, sorted by
/// name then value; a name without "=" gets an empty value.
enum CanonicalQuery {
    static func make(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for item in query.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring, value: Substring
            if let equals = item.firstIndex(of: "=") {
                name = item[..<equals]
                value = item[item.index(after: equals)...]
            } else {
                name = item
                value = ""
            }
            pairs.append((reencode(name), reencode(value)))
        }
        pairs.sort { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
        return pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    private static func reencode(_ text: Substring) -> String {
        if text.utf8.allSatisfy(URIEncoding.isUnreserved) { return String(text) }
        return URIEncoding.encode(URIEncoding.decode(text))
    }
}

/// Canonical headers: lower-case names, values trimmed with inner whitespace runs collapsed,
/// duplicates joined by commas in order, sorted by name. Written straight into two buffers.
struct CanonicalHeaders {
    /// "name:value\n" for each header.
    let block: [UInt8]
    /// "name;name;…"
    let signedNames: [UInt8]

    /// Headers that proxies and clients change on the way, which must not be signed.
    private static let unsigned: [String] = ["authorization", "user-agent", "expect", "x-amzn-trace-id",
                                             "connection", "transfer-encoding"]

    init(_ headers: HTTPHeaders) {
        let fields = headers.fields
        var order: [Int] = []
        order.reserveCapacity(fields.count)
        var capacity = 0
        for (index, field) in fields.enumerated() where !Self.unsigned.contains(where: { field.name.caseInsensitiveEquals($0) }) {
            order.append(index)
            capacity += field.name.utf8.count + field.value.utf8.count + 2
        }
        // Stable: duplicates keep their order, as their values are joined in that order.
        order.sort { lhs, rhs in
            let comparison = Self.compareLowercased(fields[lhs].name, fields[rhs].name)
            return comparison == 0 ? lhs < rhs : comparison < 0
        }
        var block: [UInt8] = []
        var names: [UInt8] = []
        block.reserveCapacity(capacity)
        names.reserveCapacity(capacity / 2)
        var previous: String?
        for index in order {
            let field = fields[index]
            if let previous, previous.caseInsensitiveEquals(field.name) {
                block.removeLast()   // the "\n": append ",value" to the same line
                block.append(UInt8(ascii: ","))
            } else {
                if previous != nil { names.append(UInt8(ascii: ";")) }
                let nameStart = block.count
                Self.appendLowercased(field.name, to: &block)
                names.append(contentsOf: block[nameStart...])
                block.append(UInt8(ascii: ":"))
            }
            Self.appendCollapsed(field.value, to: &block)
            block.append(UInt8(ascii: "\n"))
            previous = field.name
        }
        self.block = block
        self.signedNames = names
    }

    var signedNamesText: String { String(decoding: signedNames, as: UTF8.self) }

    @inline(__always)
    private static func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c + 0x20 : c }

    private static func compareLowercased(_ a: String, _ b: String) -> Int {
        var left = a.utf8.makeIterator()
        var right = b.utf8.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case let (x?, y?):
                let lx = lower(x), ly = lower(y)
                if lx != ly { return lx < ly ? -1 : 1 }
            }
        }
    }

    private static func appendLowercased(_ name: String, to out: inout [UInt8]) {
        let start = out.count
        appendUTF8(name, to: &out)
        out.withUnsafeMutableBufferPointer { buffer in
            for index in start..<buffer.count { buffer[index] = lower(buffer[index]) }
        }
    }

    /// One memcpy for native strings instead of a byte-by-byte append.
    @inline(__always)
    static func appendUTF8(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { out.append(contentsOf: $0) }
    }

    /// Trims the value and folds every run of whitespace (including line breaks) into one space.
    private static func appendCollapsed(_ value: String, to out: inout [UInt8]) {
        // Most values have nothing to fold: one bulk copy.
        var value = value
        let clean: Bool = value.withUTF8 { bytes in
            var previous: UInt8 = 0x20
            for c in bytes {
                if c == 0x09 || c == 0x0A || c == 0x0D || (c == 0x20 && previous == 0x20) { return false }
                previous = c
            }
            guard previous != 0x20 else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if clean { return }
        let start = out.count
        var pendingSpace = false
        for c in value.utf8 {
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D {
                pendingSpace = out.count > start
            } else {
                if pendingSpace { out.append(0x20); pendingSpace = false }
                out.append(c)
            }
        }
    }
}
