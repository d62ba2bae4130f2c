/// Why credentials could not be resolved. `description` is safe to log: it names the provider,
/// the profile, the file and line or the HTTP status, never a key, token or command output.
public struct CredentialError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The provider is not configured here; a chain moves on to the next one.
        case notFound = "not found"
        case malformedFile = "malformed file"
        case invalidConfiguration = "invalid configuration"
        case processFailed = "credential_process failed"
        case httpFailed = "HTTP request failed"
        case invalidResponse = "invalid response"
        case stsFailed = "STS call failed"
    }

    public let kind: Kind
    /// The provider that failed, e.g. "environment" or "profile dev".
    public let provider: String
    public let message: String
    /// For a chain that found nothing: each provider's own `notFound` error, in order.
    public let attempts: [CredentialError]
    /// The error that caused this one; its description must itself be safe.
    public let underlying: (any Error & Sendable)?

    public init(kind: Kind, provider: String, message: String, attempts: [CredentialError] = [],
                underlying: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.provider = provider
        self.message = message
        self.attempts = attempts
        self.underlying = underlying
    }

    static func notFound(_ provider: String, _ message: String) -> CredentialError {
        CredentialError(kind: .notFound, provider: provider, message: message)
    }

    public var description: String {
        var text = "\(provider): \(message)"
        if let underlying { text += " (\(underlying))" }
        for attempt in attempts { text += "\n  - \(attempt)" }
        return text
    }
}
