/// The proxy to use for a URL, from the environment as curl and the AWS SDKs read it:
/// `HTTPS_PROXY`/`https_proxy` for https URLs, `HTTP_PROXY`/`http_proxy` for http URLs, and
/// `NO_PROXY`/`no_proxy` (comma-separated hosts, domain suffixes, `*`) for exceptions.
public struct ProxySettings: Sendable, Equatable {
    public var httpsProxy: String?
    public var httpProxy: String?
    public var noProxy: String?

    public init(httpsProxy: String? = nil, httpProxy: String? = nil, noProxy: String? = nil) {
        self.httpsProxy = httpsProxy
        self.httpProxy = httpProxy
        self.noProxy = noProxy
    }

    public init(environment: [String: String]) {
        func first(_ names: String...) -> String? {
            names.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        }
        httpsProxy = first("HTTPS_PROXY", "https_proxy")
        httpProxy = first("HTTP_PROXY", "http_proxy")
        noProxy = first("NO_PROXY", "no_proxy")
    }

    /// The proxy URL for `url`, or nil to connect directly.
    public func proxy(for url: String) -> String? {
        let lower = url.lowercased()
        let candidate = lower.hasPrefix("https://") ? httpsProxy : (lower.hasPrefix("http://") ? httpProxy : nil)
        guard let candidate, let host = Self.host(of: lower) else { return nil }
        return bypasses(host: host) ? nil : candidate
    }

    func bypasses(host: String) -> Bool {
        guard let noProxy else { return false }
        for rawEntry in noProxy.split(separator: ",") {
            var entry = rawEntry.description.trimmed(of: " \t").lowercased()
            if entry == "*" { return true }
            if entry.hasPrefix("["), let close = entry.firstIndex(of: "]") {
                // "[::1]" or "[::1]:8080": the address inside the brackets, as host(of:) returns it.
                entry = String(entry[entry.index(after: entry.startIndex)..<close])
            } else if let colon = entry.lastIndex(of: ":"), entry.filter({ $0 == ":" }).count == 1 {
                entry = String(entry[..<colon])   // "host:port": the port is not compared
            }
            if entry.hasPrefix(".") { entry.removeFirst() }
            if entry.hasPrefix("*.") { entry.removeFirst(2) }
            guard !entry.isEmpty else { continue }
            if host == entry || host.hasSuffix("." + entry) { return true }
        }
        return false
    }

    static func host(of url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        var authority = url[schemeEnd.upperBound...]
        if let end = authority.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
            authority = authority[..<end]
        }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[authority.index(after: authority.startIndex)..<close])
        }
        if let colon = authority.lastIndex(of: ":") { authority = authority[..<colon] }
        return String(authority)
    }
}

extension String {
    func trimmed(of set: String) -> String {
        let chars = Set(set)
        var slice = Substring(self)
        while let first = slice.first, chars.contains(first) { slice.removeFirst() }
        while let last = slice.last, chars.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
