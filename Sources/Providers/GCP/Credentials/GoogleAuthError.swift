import DRCore
import Foundation

/// Why Google credentials could not be had. `description` is safe to print: it names the source,
/// the file and field, the HTTP status and the OAuth error code — never a key, token, refresh
/// token, client secret or assertion (texts from servers pass through `SecretRedaction` first).
public struct GoogleAuthError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// This source is not configured here; Application Default Credentials move on to the next.
        case notFound = "not found"
        /// A credentials file that cannot be used as written (exit 10: invalid local configuration).
        case malformedFile = "malformed credentials file"
        /// An environment variable or option with a value drctl cannot use (exit 10).
        case invalidConfiguration = "invalid configuration"
        /// The token endpoint, STS or IAM refused the credentials (exit 8).
        case rejected = "credentials rejected"
        /// The token endpoint could not be reached or failed (exit 9).
        case unavailable = "token endpoint unavailable"
        /// The token endpoint answered something that is not a token (exit 9).
        case invalidResponse = "invalid token response"
    }

    public let kind: Kind
    /// Where the credentials came from: `GOOGLE_APPLICATION_CREDENTIALS=/k.json (service_account)`.
    public let source: String
    public let message: String
    /// For "no credentials anywhere": each source's own `notFound`, in the order tried.
    public let attempts: [GoogleAuthError]
    public let underlying: (any Error & Sendable)?

    public init(kind: Kind, source: String, message: String, attempts: [GoogleAuthError] = [],
                underlying: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.source = source
        self.message = message
        self.attempts = attempts
        self.underlying = underlying
    }

    /// A located error in a credentials file: the path, the field (JSON path), and what was expected.
    static func malformed(_ path: String, field: String?, _ expected: String) -> GoogleAuthError {
        let location = field.map { "\(path): field \($0)" } ?? path
        return GoogleAuthError(kind: .malformedFile, source: path, message: "\(location): \(expected)")
    }

    public var description: String {
        var text = kind == .malformedFile ? message : "\(source): \(message)"
        if let underlying { text += " (\(underlying))" }
        for attempt in attempts { text += "\n  - \(attempt)" }
        return text
    }
}

/// Removes known secret values from text that came from elsewhere (a server's error description
/// may echo what it was sent), and caps its length.
enum SecretRedaction {
    static func scrub(_ text: String, secrets: [String], limit: Int = 300) -> String {
        var result = text
        for secret in secrets where secret.count >= 8 {
            result = result.replacingOccurrences(of: secret, with: "[redacted]")
        }
        result = RedactedURL.scrub(result)
        if result.count > limit { result = String(result.prefix(limit)) + "…" }
        return result
    }
}
