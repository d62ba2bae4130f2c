/// A request that got no HTTP response. The description names the host and path but never the
/// query string or credentials, because presigned URLs and proxy URLs carry secrets there.
public struct TransportError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        case resolve = "could not resolve host"
        case connect = "could not connect"
        case tls = "TLS failure"
        case connectTimeout = "connect timed out"
        case timeout = "timed out"
        case reset = "connection reset"
        case responseTooLarge = "response too large"
        case proxy = "proxy failure"
        case invalidRequest = "invalid request"
        case cancelled = "cancelled"
        case other = "transport failure"
    }

    public let kind: Kind
    /// The URL without user info and query.
    public let target: String
    public let detail: String

    public init(kind: Kind, url: String, detail: String) {
        self.kind = kind
        self.target = RedactedURL.describe(url)
        self.detail = detail
    }

    /// Whether sending again may succeed. Everything but a bad request or a cancellation is.
    public var isRetryable: Bool {
        switch kind {
        case .invalidRequest, .cancelled, .responseTooLarge: return false
        default: return true
        }
    }

    public var description: String {
        detail.isEmpty ? "\(kind.rawValue): \(target)" : "\(kind.rawValue): \(target) (\(detail))"
    }
}

/// Renders a URL safe for logs and messages: scheme, host, port and path only.
public enum RedactedURL {
    public static func describe(_ url: String) -> String {
        var text = Substring(url)
        // Drop "user:password@" first, taking the authority to end at the first "/": passwords in
        // proxy variables are often written unencoded, and a "?" or "#" in one must not end the
        // authority early and leave the credentials in front of the cut.
        if let schemeEnd = text.range(of: "://") {
            let authorityStart = schemeEnd.upperBound
            let authorityEnd = text[authorityStart...].firstIndex(of: "/") ?? text.endIndex
            if let at = text[authorityStart..<authorityEnd].lastIndex(of: "@") {
                text = text[..<authorityStart] + text[text.index(after: at)...]
            }
        }
        if let query = text.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            text = text[..<query]
        }
        return String(text)
    }
}

extension RedactedURL {
    /// Redacts every URL inside free text (library messages may quote a proxy URL with a password).
    public static func scrub(_ text: String) -> String {
        guard text.contains("://") else { return text }
        return text.split(separator: " ", omittingEmptySubsequences: false).map { word -> String in
            word.contains("://") ? describe(String(word)) : String(word)
        }.joined(separator: " ")
    }
}
