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
        guard let schemeEnd = url.range(of: "://") else { return nil }
        scheme = url[..<schemeEnd.lowerBound].lowercased()
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        guard !authority.isEmpty else { return nil }
        var host = String(authority)
        if (scheme == "https" && host.hasSuffix(":443")) || (scheme == "http" && host.hasSuffix(":80")) {
            host = String(host[..<host.lastIndex(of: ":")!])
        }
        hostHeader = host.lowercased()
        var pathAndQuery = rest[authorityEnd...]
        if let hash = pathAndQuery.firstIndex(of: "#") { pathAndQuery = pathAndQuery[..<hash] }
        if let questionMark = pathAndQuery.firstIndex(of: "?") {
            path = String(pathAndQuery[..<questionMark])
            query = String(pathAndQuery[pathAndQuery.index(after: questionMark)...])
        } else {
            path = String(pathAndQuery)
            query = ""
        }
        if path.isEmpty { path = "/" }
    }

    public var absolute: String {
        "\(scheme)://\(hostHeader)\(path)\(query.isEmpty ? "" : "?" + query)"
    }
}
