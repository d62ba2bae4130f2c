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
        guard path.contains("//") || path.contains("/.") else { return path.isEmpty ? "/" : path }
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
/// duplicates joined by commas in order, sorted by name.
struct CanonicalHeaders {
    /// "name:value\n" for each header.
    let block: [UInt8]
    /// "name;name;…"
    let signedNames: [UInt8]

    /// Headers that proxies and clients change on the way, which must not be signed.
    private static let unsigned: [[UInt8]] = ["authorization", "user-agent", "expect", "x-amzn-trace-id",
                                              "connection", "transfer-encoding"].map { Array($0.utf8) }

    init(_ headers: HTTPHeaders) {
        var merged: [(name: [UInt8], value: [UInt8])] = []
        merged.reserveCapacity(headers.count)
        for (name, value) in headers {
            let lower = Self.lowercased(name)
            if Self.unsigned.contains(lower) { continue }
            let collapsed = Self.collapse(value)
            if let index = merged.firstIndex(where: { $0.name == lower }) {
                merged[index].value.append(UInt8(ascii: ","))
                merged[index].value.append(contentsOf: collapsed)
            } else {
                merged.append((lower, collapsed))
            }
        }
        merged.sort { $0.name.lexicographicallyPrecedes($1.name) }
        var block: [UInt8] = []
        var names: [UInt8] = []
        block.reserveCapacity(merged.reduce(0) { $0 + $1.name.count + $1.value.count + 2 })
        for (offset, entry) in merged.enumerated() {
            block.append(contentsOf: entry.name)
            block.append(UInt8(ascii: ":"))
            block.append(contentsOf: entry.value)
            block.append(UInt8(ascii: "\n"))
            if offset > 0 { names.append(UInt8(ascii: ";")) }
            names.append(contentsOf: entry.name)
        }
        self.block = block
        self.signedNames = names
    }

    var signedNamesText: String { String(decoding: signedNames, as: UTF8.self) }

    private static func lowercased(_ name: String) -> [UInt8] {
        var bytes = Array(name.utf8)
        for index in bytes.indices where bytes[index] >= 0x41 && bytes[index] <= 0x5A { bytes[index] += 0x20 }
        return bytes
    }

    private static func collapse(_ value: String) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(value.utf8.count)
        var pendingSpace = false
        for c in value.utf8 {
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(0x20); pendingSpace = false }
                out.append(c)
            }
        }
        return out
    }
}
