import Foundation

/// An access key pair, with the session token and expiry of temporary credentials.
/// `description` never shows the secret or the token.
public struct AWSCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let accessKeyId: String
    public let secretAccessKey: String
    public let sessionToken: String?
    public let expiration: Date?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken?.isEmpty == true ? nil : sessionToken
        self.expiration = expiration
    }

    public var description: String {
        let temporary = sessionToken == nil ? "" : ", temporary"
        let expiry = expiration.map { ", expires \(ISO8601DateFormatter().string(from: $0))" } ?? ""
        return "AWSCredentials(\(accessKeyId)\(temporary)\(expiry))"
    }

    public var debugDescription: String { description }

    /// True when the credentials expire within `margin` of `now`.
    public func expires(within margin: TimeInterval, of now: Date) -> Bool {
        guard let expiration else { return false }
        return expiration.timeIntervalSince(now) <= margin
    }
}
