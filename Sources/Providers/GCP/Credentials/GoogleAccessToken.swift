import Foundation

/// An OAuth2 access token and when it expires. Its description never shows the token, so
/// interpolating one into a log line or error cannot leak it.
public struct GoogleAccessToken: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String
    /// nil: the issuer did not say (treated as valid for an hour, Google's default lifetime).
    public let expiry: Date?

    public init(value: String, expiry: Date?) {
        self.value = value
        self.expiry = expiry
    }

    public func expires(within seconds: TimeInterval, of now: Date) -> Bool {
        guard let expiry else { return false }
        return expiry.timeIntervalSince(now) <= seconds
    }

    public var description: String { "GoogleAccessToken(expires \(expiry.map { "\($0)" } ?? "unknown"))" }
    public var debugDescription: String { description }
}

/// Produces access tokens for a set of OAuth2 scopes. Each credential type is one small source;
/// `GoogleTokenCache` wraps one so callers share tokens until shortly before they expire.
public protocol GoogleTokenSource: Sendable {
    func token(scopes: [String]) async throws -> GoogleAccessToken
}

public enum GoogleScopes {
    /// What drctl asks for: every API it calls accepts it (Cloud SQL Admin, DNS, GKE, Monitoring, Storage).
    public static let cloudPlatform = "https://www.googleapis.com/auth/cloud-platform"
    /// What a source credential needs to call `iamcredentials` (google-auth's `iam._IAM_SCOPE`).
    public static let iam = "https://www.googleapis.com/auth/iam"
}
