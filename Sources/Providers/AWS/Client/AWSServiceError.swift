/// An error response from an AWS service, decoded from the service's own error shape.
/// Its description is safe to log: it holds the code and message, never request headers.
public struct AWSServiceError: Error, CustomStringConvertible, Sendable {
    public let service: String
    public let operation: String
    public let code: String
    public let message: String
    public let requestId: String?
    public let httpStatus: Int
    public let region: String
    /// The server's clock from the `Date` header, used to correct clock skew.
    public let serverDate: String?
    /// Seconds from a `Retry-After` header.
    public let retryAfter: Double?

    public init(service: String, operation: String, code: String, message: String, requestId: String?,
                httpStatus: Int, region: String, serverDate: String? = nil, retryAfter: Double? = nil) {
        self.service = service
        self.operation = operation
        self.code = code
        self.message = message
        self.requestId = requestId
        self.httpStatus = httpStatus
        self.region = region
        self.serverDate = serverDate
        self.retryAfter = retryAfter
    }

    public var category: AWSErrorCategory { AWSErrorCategory(code: code, httpStatus: httpStatus) }
    public var isRetryable: Bool { category == .throttling || category == .transient }

    public var description: String {
        var text = "\(service) \(operation) in \(region) failed: \(code)"
        if !message.isEmpty { text += ": \(message)" }
        text += " (HTTP \(httpStatus)"
        if let requestId { text += ", request id \(requestId)" }
        return text + ")"
    }
}

/// How the retry logic and the CLI treat an error code. Lists follow the SDKs' standard retry
/// mode: https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
public enum AWSErrorCategory: String, Sendable {
    case throttling, transient, clockSkew, authentication, accessDenied, notFound, validation, other

    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
    ]
    static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "InternalServerError",
        "ServiceUnavailable", "ServiceUnavailableException",
    ]
    static let clockSkewCodes: Set<String> = [
        "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture", "InvalidSignatureException",
        "SignatureDoesNotMatch", "AuthFailure",
    ]
    static let authenticationCodes: Set<String> = [
        "InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId", "ExpiredToken",
        "ExpiredTokenException", "MissingAuthenticationToken", "IncompleteSignature", "InvalidToken",
    ]

    public init(code: String, httpStatus: Int) {
        if Self.throttlingCodes.contains(code) || httpStatus == 429 { self = .throttling }
        else if Self.clockSkewCodes.contains(code) { self = .clockSkew }
        else if Self.authenticationCodes.contains(code) { self = .authentication }
        else if Self.transientCodes.contains(code) || [500, 502, 503, 504].contains(httpStatus) { self = .transient }
        else if code == "AccessDenied" || code == "AccessDeniedException" || code == "UnauthorizedOperation" { self = .accessDenied }
        // JSON services say ResourceNotFoundException / NotFoundException with HTTP 400.
        else if code.hasSuffix("NotFound") || code.hasSuffix("NotFoundFault") || code.hasSuffix("NotFoundException") || code == "NoSuchKey"
                    || code == "NoSuchBucket" || code == "NoSuchHostedZone" || httpStatus == 404 { self = .notFound }
        else if httpStatus >= 400 && httpStatus < 500 { self = .validation }
        else { self = .other }
    }
}
