import DRCore
import Foundation
import Logging

/// The one pipeline every Google API call goes through: endpoint (with gcloud's overrides), a
/// bearer token from the shared cache, `x-goog-user-project`, the shared libcurl transport, Google's
/// error model and retries.
///
/// Retries (the shared `RetryStrategy`: exponential backoff, full jitter, `Retry-After`, a retry
/// quota): 429 and 500/502/503/504 and transport failures, for idempotent calls; a non-idempotent
/// call is sent again only when it provably did not reach the server (no connection was made, or
/// the service refused it with 429 before doing anything). A 401 is answered once with a fresh
/// token (the cached one may have been revoked or expired early), outside the retry budget.
public final class GCPClient: Sendable {
    public let transport: any HTTPTransport
    public let credentials: GoogleCredentials
    public let endpoints: GCPEndpoints
    public let retry: RetryStrategy
    public let scopes: [String]
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let sleep: @Sendable (Double) async throws -> Void
    private let random: @Sendable () -> Double

    public init(transport: any HTTPTransport, credentials: GoogleCredentials, endpoints: GCPEndpoints,
                retry: RetryStrategy = RetryStrategy(maxAttempts: 5), scopes: [String] = [GoogleScopes.cloudPlatform],
                logger: Logger = Logger(label: "drctl.gcp"),
                now: @escaping @Sendable () -> Date = { Date() },
                sleep: @escaping @Sendable (Double) async throws -> Void = { try await Task.sleep(for: .seconds(saturating: $0)) },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.transport = transport
        self.credentials = credentials
        self.endpoints = endpoints
        self.retry = retry
        self.scopes = scopes
        self.logger = logger
        self.now = now
        self.sleep = sleep
        self.random = random
    }

    /// The same pipeline for `caller`: its quota project in `x-goog-user-project`, and, unless the
    /// operator already chose whom to impersonate, its service account's tokens — fetched with this
    /// client's own (`iamcredentials.generateAccessToken`) into a token cache of their own.
    func acting(as caller: GCPCaller) -> GCPClient {
        var tokens = credentials.tokens, principal = credentials.principal, source = credentials.source
        if let target = caller.impersonateServiceAccount, credentials.impersonatedByOperator == nil {
            let description = "impersonating \(target) (the plan's gcp.impersonate_service_account) via \(credentials.source)"
            let impersonated = ImpersonatedTokenSource(targetPrincipal: target,
                                                       url: ServiceAccountImpersonation.url(root: endpoints.root(for: .iamcredentials), principal: target),
                                                       delegates: [], base: credentials.tokens, endpoint: TokenEndpoint(transport: transport),
                                                       sourceName: description)
            tokens = GoogleTokenCache(source: impersonated, now: now)
            principal = target
            source = description
        }
        let acting = GoogleCredentials(tokens: tokens, source: source, principal: principal,
                                       principalLookup: principal == credentials.principal ? credentials.principalLookup : .known,
                                       project: credentials.project, projectSource: credentials.projectSource,
                                       quotaProject: caller.quotaProject ?? credentials.quotaProject,
                                       impersonatedByOperator: credentials.impersonatedByOperator)
        return GCPClient(transport: transport, credentials: acting, endpoints: endpoints, retry: retry, scopes: scopes, logger: logger,
                         now: now, sleep: sleep, random: random)
    }

    /// Sends `request` and returns the 2xx response, or throws `GCPServiceError`, `TransportError`
    /// or `GoogleAuthError`. `deadline` bounds the call including retries.
    public func send(_ request: GCPRequest, timeouts: HTTPTimeouts? = nil, deadline: Date? = nil) async throws -> HTTPResponse {
        let query = request.encodedQuery
        let url = endpoints.root(for: request.service) + request.path + (query.isEmpty ? "" : "?" + query)
        var attempt = 0
        var heldRetryCost: Int?
        var refreshedAfter401 = false
        while true {
            attempt += 1
            let token = try await credentials.tokens.token(scopes: scopes)
            var headers: HTTPHeaders = ["Authorization": "Bearer \(token.value)", "User-Agent": "drctl", "Accept": "application/json"]
            if request.body != nil { headers.add("Content-Type", request.contentType) }
            if let quotaProject = credentials.quotaProject { headers.add("x-goog-user-project", quotaProject) }
            let httpRequest = HTTPRequest(method: request.httpMethod, url: url, headers: headers, body: request.body.map(Array.init) ?? [],
                                          timeouts: HTTPTimeouts.bounded(timeouts, by: deadline, now: now()))
            let error: any Error
            do {
                let response = try await transport.send(httpRequest)
                if (200..<300).contains(response.status) {
                    retry.quota.release(heldRetryCost ?? 1)
                    logger.debug("gcp call", metadata: ["gcp.method": "\(request.methodId)", "http.status": "\(response.status)",
                                                        "gcp.attempt": "\(attempt)"])
                    return response
                }
                error = GCPServiceError.decode(response, method: request.methodId, secrets: [token.value])
            } catch let transportError as TransportError {
                error = transportError
            }

            if let serviceError = error as? GCPServiceError, serviceError.category == .authentication, !refreshedAfter401 {
                refreshedAfter401 = true
                attempt -= 1
                await credentials.tokens.invalidate(token)
                logger.info("token refused, fetching a fresh one", metadata: ["gcp.method": "\(request.methodId)"])
                continue
            }
            guard Self.mayRetry(error, idempotent: request.isIdempotent), attempt < retry.maxAttempts else { throw error }
            let afterTimeout = (error as? TransportError).map { $0.kind == .timeout || $0.kind == .connectTimeout } ?? false
            guard let cost = retry.quota.acquire(afterTimeout: afterTimeout) else {
                logger.info("retry quota exhausted", metadata: ["gcp.method": "\(request.methodId)"])
                throw error
            }
            heldRetryCost = cost
            let delay = retry.backoff(afterAttempt: attempt, random: random(), retryAfter: (error as? GCPServiceError)?.retryAfter)
            if let deadline, now().addingTimeInterval(delay) >= deadline { throw error }
            logger.debug("retrying", metadata: ["gcp.method": "\(request.methodId)", "gcp.attempt": "\(attempt)",
                                                "gcp.error": "\(Self.shortDescription(error))", "gcp.delay": "\(delay)"])
            try await sleep(delay)
        }
    }

    /// Sends `request` and decodes the JSON answer.
    public func call<Response: Decodable>(_ request: GCPRequest, as type: Response.Type = Response.self,
                                          timeouts: HTTPTimeouts? = nil, deadline: Date? = nil) async throws -> Response {
        let response = try await send(request, timeouts: timeouts, deadline: deadline)
        do {
            return try JSONDecoder().decode(Response.self, from: Data(response.body))
        } catch {
            throw GCPResponseError(method: request.methodId, detail: "not the expected JSON: \(DecodingErrorPath.describe(error))")
        }
    }

    static func mayRetry(_ error: any Error, idempotent: Bool) -> Bool {
        if let serviceError = error as? GCPServiceError {
            // 429 is a refusal before any work (quota is checked first): safe for any call.
            return serviceError.category == .throttled || (idempotent && serviceError.isRetryable)
        }
        if let transportError = error as? TransportError {
            guard transportError.isRetryable else { return false }
            if idempotent { return true }
            // Nothing was sent on these: no address, no connection, no TLS session.
            return [.resolve, .connect, .connectTimeout, .tls].contains(transportError.kind)
        }
        return false
    }

    static func shortDescription(_ error: any Error) -> String {
        if let serviceError = error as? GCPServiceError { return "\(serviceError.httpStatus) \(serviceError.status ?? "")" }
        if let transportError = error as? TransportError { return transportError.kind.rawValue }
        return String(describing: type(of: error))
    }
}

/// A decoding error's coding path (`settings.tier`), without the values it saw.
enum DecodingErrorPath {
    static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "invalid JSON" }
        let context: DecodingError.Context
        switch decoding {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c): context = c
        @unknown default: return "invalid JSON"
        }
        var path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        if case .keyNotFound(let key, _) = decoding { path += (path.isEmpty ? "" : ".") + key.stringValue + " missing" }
        return path.isEmpty ? "invalid JSON" : path
    }
}
