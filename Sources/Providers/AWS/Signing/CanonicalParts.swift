import DRCore

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
struct CanonicalQuery {
    let text: String

    init(_ query: String) {
        guard !query.isEmpty else {
            text = ""
            return
        }
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
            pairs.append((Self.reencode(name), Self.reencode(value)))
        }
        pairs.sort { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
        text = pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    private static func reencode(_ text: Substring) -> String {
        if text.utf8.allSatisfy(URIEncoding.isUnreserved) { return String(text) }
        return URIEncoding.encode(URIEncoding.decode(text))
    }
}

/// Canonical headers: lower-case names, values trimmed with inner whitespace runs collapsed,
/// duplicates joined by commas in order, sorted by name.
struct CanonicalHeaders {
    let block: String
    let signedNames: String

    init(_ headers: HTTPHeaders, excluding: Set<String>) {
        var merged: [(name: String, value: String)] = []
        merged.reserveCapacity(headers.count)
        for (name, value) in headers {
            let lower = name.lowercased()
            if excluding.contains(lower) { continue }
            let trimmed = Self.collapse(value)
            if let index = merged.firstIndex(where: { $0.name == lower }) {
                merged[index].value += "," + trimmed
            } else {
                merged.append((lower, trimmed))
            }
        }
        merged.sort { $0.name < $1.name }
        var block = ""
        for entry in merged {
            block += entry.name
            block += ":"
            block += entry.value
            block += "\n"
        }
        self.block = block
        self.signedNames = merged.map(\.name).joined(separator: ";")
    }

    private static func collapse(_ value: String) -> String {
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
        return String(decoding: out, as: UTF8.self)
    }
}
