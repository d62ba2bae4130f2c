import Foundation

/// The `Expiration` timestamps of credential_process, container, IMDS and environment credentials:
/// RFC 3339, with or without fractional seconds (`2024-05-01T12:00:00Z`, `…:00.123+00:00`).
enum CredentialTimestamp {
    static func parse(_ text: String) -> Date? {
        // A formatter per call: ISO8601DateFormatter is not Sendable and parsing is rare.
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
