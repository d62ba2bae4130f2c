import DRCore
import Foundation

/// An error answer of a Google API, in Google's error model (https://cloud.google.com/apis/design/errors):
/// `{"error":{"code":403,"message":"…","status":"PERMISSION_DENIED","details":[…],"errors":[{"reason":…}]}}`.
/// Keeps the HTTP status, the canonical status, the reason (`ErrorInfo.reason` or the legacy
/// `errors[].reason`), the method and whether a retry may help. `description` is safe to print.
public struct GCPServiceError: Error, Sendable, CustomStringConvertible {
    public enum Category: String, Sendable {
        /// 401: the token was refused (expired, revoked, wrong audience).
        case authentication
        /// 403: the principal lacks the permission, or the API is disabled for the project.
        case permissionDenied
        case notFound
        /// 409 / 412 / 400 FAILED_PRECONDITION: the resource's state does not allow it now.
        case conflict
        case invalidArgument
        /// 429 RESOURCE_EXHAUSTED.
        case throttled
        /// 500, 502, 503, 504.
        case unavailable
        case other
    }

    public let httpStatus: Int
    /// Google's canonical code: `PERMISSION_DENIED`, `NOT_FOUND`, `RESOURCE_EXHAUSTED` …
    public let status: String?
    public let message: String
    /// `ErrorInfo.reason` (`SERVICE_DISABLED`) or the legacy `errors[0].reason` (`operationInProgress`).
    public let reason: String?
    /// `service.method`, for the message: `sqladmin.instances.get`.
    public let method: String
    /// Seconds from `Retry-After` (or `RetryInfo.retryDelay`), when the service said.
    public let retryAfter: Double?

    public var category: Category {
        switch httpStatus {
        case 401: return .authentication
        case 403: return .permissionDenied
        case 404: return .notFound
        case 409, 412: return .conflict
        case 429: return .throttled
        case 500, 502, 503, 504: return .unavailable
        case 400: return status == "FAILED_PRECONDITION" ? .conflict : .invalidArgument
        default: return .other
        }
    }

    public var isRetryable: Bool { category == .throttled || category == .unavailable }

    public var description: String {
        var text = "\(method): HTTP \(httpStatus)"
        if let status { text += " \(status)" }
        if let reason, reason != status { text += " (\(reason))" }
        if !message.isEmpty { text += ": \(message)" }
        return text
    }

    public init(httpStatus: Int, status: String?, message: String, reason: String?, method: String, retryAfter: Double?) {
        self.httpStatus = httpStatus
        self.status = status
        self.message = message
        self.reason = reason
        self.method = method
        self.retryAfter = retryAfter
    }

    /// Decodes an error response; a body that is not Google's shape (an HTML page from a proxy)
    /// keeps the status only. `secrets` (the bearer token) are scrubbed from the message.
    static func decode(_ response: HTTPResponse, method: String, secrets: [String]) -> GCPServiceError {
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        let error = object?["error"] as? [String: Any]
        let details = (error?["details"] as? [[String: Any]]) ?? []
        let legacy = (error?["errors"] as? [[String: Any]]) ?? []
        let reason = details.lazy.compactMap { $0["reason"] as? String }.first ?? legacy.first?["reason"] as? String
        var retryAfter = response.headers["Retry-After"].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        if retryAfter == nil, let delay = details.lazy.compactMap({ $0["retryDelay"] as? String }).first, delay.hasSuffix("s") {
            retryAfter = Double(delay.dropLast())
        }
        let message = SecretRedaction.scrub((error?["message"] as? String) ?? "", secrets: secrets)
        return GCPServiceError(httpStatus: response.status, status: error?["status"] as? String, message: message,
                               reason: reason, method: method, retryAfter: retryAfter)
    }
}

/// A 2xx answer drctl could not read as the API's JSON.
public struct GCPResponseError: Error, Sendable, CustomStringConvertible {
    public let method: String
    public let detail: String
    public var description: String { "\(method): unreadable response (\(detail))" }
}

/// drctl has no project to call the API for: none in the plan, the environment or the credentials.
public struct GCPProjectMissing: Error, Sendable, CustomStringConvertible {
    public var description: String {
        "no Google Cloud project: set GOOGLE_CLOUD_PROJECT, or use credentials that name one (project_id in a service-account key)"
    }
    public init() {}
}
