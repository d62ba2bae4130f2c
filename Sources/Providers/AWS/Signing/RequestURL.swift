/// The parts of an absolute URL that SigV4 needs, split without any re-encoding.
public struct RequestURL: Sendable, Equatable {
    public var scheme: String
    /// Host and, when not the scheme's default, ":port" — the value of the Host header.
    public var hostHeader: String
    /// The path as it goes on the wire, "/" when empty.
    public var path: String
    /// The raw query string without "?", empty when there is none.
    public var query: String

    public init?(_ url: String) {
        var url = url
        guard let parsed = url.withUTF8({ RequestURL(bytes: $0) }) else { return nil }
        self = parsed
    }

    // Byte scanning rather than Foundation: this runs once per signed request.
    private init?(bytes: UnsafeBufferPointer<UInt8>) {
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon + 2 < bytes.count,
              bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/") else { return nil }
        let rawScheme = String(decoding: bytes[..<colon], as: UTF8.self)
        scheme = rawScheme == "https" || rawScheme == "http" ? rawScheme : rawScheme.lowercased()
        let authorityStart = colon + 3
        var authorityEnd = authorityStart
        while authorityEnd < bytes.count, bytes[authorityEnd] != UInt8(ascii: "/"), bytes[authorityEnd] != UInt8(ascii: "?"),
              bytes[authorityEnd] != UInt8(ascii: "#") {
            authorityEnd += 1
        }
        var hostStart = authorityStart
        if let at = bytes[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) { hostStart = at + 1 }
        guard hostStart < authorityEnd else { return nil }
        let hostBytes = bytes[hostStart..<authorityEnd]
        var host = String(decoding: hostBytes, as: UTF8.self)
        if hostBytes.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) { host = host.lowercased() }
        if (scheme == "https" && host.hasSuffix(":443")) || (scheme == "http" && host.hasSuffix(":80")) {
            host.removeSubrange(host.lastIndex(of: ":")!...)
        }
        hostHeader = host
        var end = bytes.count
        if let hash = bytes[authorityEnd...].firstIndex(of: UInt8(ascii: "#")) { end = hash }
        if let question = bytes[authorityEnd..<end].firstIndex(of: UInt8(ascii: "?")) {
            path = String(decoding: bytes[authorityEnd..<question], as: UTF8.self)
            query = String(decoding: bytes[(question + 1)..<end], as: UTF8.self)
        } else {
            path = String(decoding: bytes[authorityEnd..<end], as: UTF8.self)
            query = ""
        }
        if path.isEmpty { path = "/" }
    }

    public var absolute: String {
        "\(scheme)://\(hostHeader)\(path)\(query.isEmpty ? "" : "?" + query)"
    }
}
