import DRCore
import Foundation
import Logging

/// The one pipeline every AWS call goes through, whatever its protocol: endpoint, credentials,
/// SigV4, transport, error decoding, standard-mode retries and clock-skew correction.
public final class AWSClient: Sendable {
    public let transport: any HTTPTransport
    public let credentials: any CredentialProvider
    public let endpoints: any AWSEndpointResolving
    public let retry: RetryStrategy
    public let clockSkew: ClockSkew
    public let userAgent: String
    private let now: @Sendable () -> Date
    private let sleep: @Sendable (Double) async throws -> Void
    private let random: @Sendable () -> Double
    private let signers = SignerCache()
    private let logger: Logger

    public init(transport: any HTTPTransport, credentials: any CredentialProvider, endpoints: any AWSEndpointResolving,
                retry: RetryStrategy = RetryStrategy(), userAgent: String = "drctl",
                logger: Logger = Logger(label: "drctl.aws"),
                now: @escaping @Sendable () -> Date = { Date() },
                sleep: @escaping @Sendable (Double) async throws -> Void = { try await Task.sleep(for: .seconds(saturating: $0)) },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.transport = transport
        self.credentials = credentials
        self.endpoints = endpoints
        self.retry = retry
        self.clockSkew = ClockSkew()
        self.userAgent = userAgent
        self.logger = logger
        self.now = now
        self.sleep = sleep
        self.random = random
    }

    /// Sends `request` to `service` in `region` and returns the 2xx response, or throws
    /// `AWSServiceError` (decoded from the service's error shape) or `TransportError`.
    /// `deadline` bounds the whole call including retries (e.g. the remaining RTO budget).
    public func send(_ request: AWSRequest, service: AWSServiceDescriptor, region: String,
                     timeouts: HTTPTimeouts? = nil, deadline: Date? = nil) async throws -> HTTPResponse {
        let endpoint = endpoints.endpoint(for: service, region: region)
        var attempt = 0
        var heldRetryCost: Int?
        var skewCorrected = false
        while true {
            attempt += 1
            let outcome: Result<HTTPResponse, any Error>
            do {
                let httpRequest = try await prepare(request, service: service, endpoint: endpoint)
                var timed = httpRequest
                timed.timeouts = Self.bounded(timeouts, by: deadline, now: now())
                let response = try await transport.send(timed)
                if (200..<300).contains(response.status) {
                    retry.quota.release(heldRetryCost ?? 1)
                    logger.debug("aws call", metadata: ["cloud.service": "\(service.serviceId)", "aws.operation": "\(request.operation)",
                                                        "cloud.region": "\(region)", "http.status": "\(response.status)", "aws.attempt": "\(attempt)"])
                    return response
                }
                outcome = .failure(AWSResponseDecoding.error(from: response, service: service, operation: request.operation, region: region))
            } catch {
                outcome = .failure(error)
            }
            guard case .failure(let error) = outcome else { continue }

            // Clock skew: re-sign once with the server's clock, outside the retry budget.
            if let serviceError = error as? AWSServiceError, serviceError.category == .clockSkew, !skewCorrected,
               clockSkew.adjust(serverDate: serviceError.serverDate, localNow: now()) {
                skewCorrected = true
                attempt -= 1
                logger.info("clock skew corrected", metadata: ["aws.skew_seconds": "\(Int(saturating: clockSkew.current))"])
                continue
            }

            let (retryable, afterTimeout, retryAfter) = Self.classify(error)
            guard retryable, attempt < retry.maxAttempts else { throw error }
            guard let cost = retry.quota.acquire(afterTimeout: afterTimeout) else {
                logger.info("retry quota exhausted", metadata: ["aws.operation": "\(request.operation)"])
                throw error
            }
            heldRetryCost = cost
            let delay = retry.backoff(afterAttempt: attempt, random: random(), retryAfter: retryAfter)
            if let deadline, now().addingTimeInterval(delay) >= deadline { throw error }
            logger.debug("retrying", metadata: ["aws.operation": "\(request.operation)", "aws.attempt": "\(attempt)",
                                                "aws.error": "\(Self.shortDescription(error))", "aws.delay": "\(delay)"])
            try await sleep(delay)
        }
    }

    /// Endpoint + encoded query + signature, ready for the transport.
    private func prepare(_ request: AWSRequest, service: AWSServiceDescriptor, endpoint: AWSEndpoint) async throws -> HTTPRequest {
        let query = request.encodedQuery
        let url = endpoint.url + request.path + (query.isEmpty ? "" : "?" + query)
        var headers = request.headers
        headers.replaceOrAdd("User-Agent", userAgent)
        if request.authentication == .none {
            return HTTPRequest(method: request.method, url: url, headers: headers, body: request.body)
        }
        let resolved = try await credentials.resolve()
        let signer = signers.signer(for: resolved.credentials, region: endpoint.signingRegion, service: service)
        let payload: SigV4Signer.Payload = request.authentication == .signedUnsignedPayload ? .unsigned : .bytes(request.body)
        let signed = signer.sign(method: request.method, url: url, headers: headers, payload: payload,
                                 date: now().addingTimeInterval(clockSkew.current))
        return HTTPRequest(method: request.method, url: url, headers: signed.headers, body: request.body)
    }

    static func classify(_ error: any Error) -> (retryable: Bool, afterTimeout: Bool, retryAfter: Double?) {
        if let serviceError = error as? AWSServiceError {
            return (serviceError.isRetryable, false, serviceError.retryAfter)
        }
        if let transportError = error as? TransportError {
            let timedOut = transportError.kind == .timeout || transportError.kind == .connectTimeout
            return (transportError.isRetryable, timedOut, nil)
        }
        return (false, false, nil)
    }

    /// Per-attempt timeouts never run past the caller's deadline.
    static func bounded(_ timeouts: HTTPTimeouts?, by deadline: Date?, now: Date) -> HTTPTimeouts? {
        HTTPTimeouts.bounded(timeouts, by: deadline, now: now)
    }

    static func shortDescription(_ error: any Error) -> String {
        if let serviceError = error as? AWSServiceError { return serviceError.code }
        if let transportError = error as? TransportError { return transportError.kind.rawValue }
        return String(describing: type(of: error))
    }
}

extension AWSRequest.Authentication: Equatable {}

/// Signers keep their derived signing key, so one per credentials, region and service is reused.
final class SignerCache: @unchecked Sendable {
    private let lock = NSLock()
    private var signers: [String: SigV4Signer] = [:]

    func signer(for credentials: AWSCredentials, region: String, service: AWSServiceDescriptor) -> SigV4Signer {
        let key = "\(credentials.accessKeyId)|\(region)|\(service.signingName)"
        lock.lock()
        defer { lock.unlock() }
        if let signer = signers[key], signer.credentials.secretAccessKey == credentials.secretAccessKey,
           signer.credentials.sessionToken == credentials.sessionToken {
            return signer
        }
        if signers.count > 64 { signers.removeAll() }
        let signer = SigV4Signer(credentials: credentials, region: region, service: service.signingName, options: service.signerOptions)
        signers[key] = signer
        return signer
    }
}
