import DRCore
import Foundation

/// One POST to a token-issuing endpoint (OAuth2 token endpoint, STS, iamcredentials, the metadata
/// server's token), with the retries google-auth makes (`_client._token_endpoint_request`: 429 and
/// 5xx and transport failures, exponential backoff) and its errors turned into `GoogleAuthError`:
/// a refusal is `.rejected` (exit 8), an outage `.unavailable` (exit 9). Whatever the server
/// answers is scrubbed of `secrets` before it reaches a message.
struct TokenEndpoint: Sendable {
    let transport: any HTTPTransport
    var retry = RetryStrategy(maxAttempts: 3, baseDelay: 0.5, maximumBackoff: 5)
    var timeouts = HTTPTimeouts(connect: .seconds(10), total: .seconds(30))
    var sleep: @Sendable (Double) async throws -> Void = { try await Task.sleep(for: .seconds(saturating: $0)) }

    init(transport: any HTTPTransport) { self.transport = transport }

    /// Sends `request` and returns the decoded JSON object of a 200 answer.
    func call(_ request: HTTPRequest, source: String, what: String, secrets: [String]) async throws -> [String: Any] {
        var request = request
        request.timeouts = request.timeouts ?? timeouts
        var attempt = 0
        while true {
            attempt += 1
            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch let error as TransportError {
                guard error.isRetryable, attempt < retry.maxAttempts else {
                    throw GoogleAuthError(kind: .unavailable, source: source, message: "\(what) failed", underlying: error)
                }
                try await sleep(retry.backoff(afterAttempt: attempt, random: Double.random(in: 0..<1), retryAfter: nil))
                continue
            }
            if response.status == 200 {
                guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
                    throw GoogleAuthError(kind: .invalidResponse, source: source, message: "\(what) answered HTTP 200 without a JSON object")
                }
                return object
            }
            let retryable = response.status == 429 || (500...599).contains(response.status)
            if retryable, attempt < retry.maxAttempts {
                try await sleep(retry.backoff(afterAttempt: attempt, random: Double.random(in: 0..<1), retryAfter: nil))
                continue
            }
            let detail = Self.errorDetail(response, secrets: secrets)
            throw GoogleAuthError(kind: retryable ? .unavailable : .rejected, source: source,
                                  message: "\(what) answered HTTP \(response.status)\(detail.isEmpty ? "" : ": " + detail)")
        }
    }

    /// OAuth2's `{"error","error_description"}` (RFC 6749 §5.2) or Google's `{"error":{"status","message"}}`.
    static func errorDetail(_ response: HTTPResponse, secrets: [String]) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else { return "" }
        var parts: [String] = []
        if let code = object["error"] as? String {
            parts.append(code)
            if let description = object["error_description"] as? String { parts.append(description) }
        } else if let error = object["error"] as? [String: Any] {
            if let status = error["status"] as? String { parts.append(status) }
            if let message = error["message"] as? String { parts.append(message) }
        }
        return SecretRedaction.scrub(parts.joined(separator: ": "), secrets: secrets)
    }

    /// `access_token` + `expires_in` (seconds, a number or — some servers — a string).
    static func oauthToken(_ object: [String: Any], source: String, now: Date) throws -> GoogleAccessToken {
        guard let token = object["access_token"] as? String, !token.isEmpty else {
            throw GoogleAuthError(kind: .invalidResponse, source: source, message: "the token response has no access_token")
        }
        let seconds = (object["expires_in"] as? NSNumber)?.doubleValue ?? (object["expires_in"] as? String).flatMap(Double.init)
        return GoogleAccessToken(value: token, expiry: seconds.map { now.addingTimeInterval($0) })
    }

    /// iamcredentials' `accessToken` + `expireTime` (RFC 3339).
    static func iamToken(_ object: [String: Any], source: String) throws -> GoogleAccessToken {
        guard let token = object["accessToken"] as? String, !token.isEmpty else {
            throw GoogleAuthError(kind: .invalidResponse, source: source, message: "generateAccessToken answered without accessToken")
        }
        let expiry = (object["expireTime"] as? String).flatMap(RFC3339.parse)
        return GoogleAccessToken(value: token, expiry: expiry)
    }
}

/// `application/x-www-form-urlencoded` exactly as Python's `urllib.parse.urlencode` writes it
/// (google-auth's token requests): `quote_plus`, so a space is `+` and only `A-Za-z0-9_.-~` stay.
enum FormEncoding {
    static func encode(_ pairs: [(String, String)]) -> [UInt8] {
        Array(pairs.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&").utf8)
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "~"):
                result.append(Character(UnicodeScalar(byte)))
            case UInt8(ascii: " "):
                result.append("+")
            default:
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }
}

enum RFC3339 {
    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
