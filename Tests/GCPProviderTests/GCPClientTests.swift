import DRCore
import Foundation
import Testing
@testable import GCPProvider

/// The client's retries, error model and headers, with faults at exact attempts.
@Suite struct GCPClientTests {
    struct FixedToken: GoogleTokenSource {
        let counter: ScriptedTransport
        func token(scopes: [String]) async throws -> GoogleAccessToken {
            // Each fetch is a request to the token "endpoint" of the same scripted transport.
            let response = try await counter.send(HTTPRequest(method: "POST", url: "https://oauth2.googleapis.com/token"))
            return GoogleAccessToken(value: response.bodyText, expiry: Date().addingTimeInterval(3600))
        }
    }

    static let get = GCPRequest(service: .sqladmin, methodId: "sqladmin.instances.get", httpMethod: "GET",
                                path: "v1/projects/p/instances/db")
    static let promote = GCPRequest(service: .sqladmin, methodId: "sqladmin.instances.promoteReplica", httpMethod: "POST",
                                    path: "v1/projects/p/instances/db/promoteReplica")

    func makeClient(quotaProject: String? = "billing-project", environment: [String: String] = [:],
                _ respond: @escaping @Sendable (HTTPRequest, Int) throws -> HTTPResponse) throws -> (GCPClient, ScriptedTransport) {
        let transport = ScriptedTransport { request, n in
            if request.url.hasSuffix("/token") { return HTTPResponse(status: 200, body: Array("ya29.token-\(n)".utf8)) }
            return try respond(request, n)
        }
        let credentials = GoogleCredentials(tokens: GoogleTokenCache(source: FixedToken(counter: transport)), source: "test",
                                            principal: "a@p", principalLookup: .known, project: "p", projectSource: nil,
                                            quotaProject: quotaProject)
        let client = GCPClient(transport: transport, credentials: credentials, endpoints: try GCPEndpoints(environment: environment),
                               retry: RetryStrategy(maxAttempts: 3, baseDelay: 0.001, maximumBackoff: 0.01), sleep: { _ in })
        return (client, transport)
    }

    @Test func throttlingAndUnavailableAreRetriedThenSucceed() async throws {
        let (client, transport) = try makeClient { _, n in
            switch n {
            case 1: return ScriptedTransport.googleError(429, "RESOURCE_EXHAUSTED", "Quota exceeded")
            case 2: return ScriptedTransport.googleError(503, "UNAVAILABLE", "try again")
            default: return ScriptedTransport.json(200, ["name": "db", "state": "RUNNABLE"])
            }
        }
        let response = try await client.send(Self.get)
        #expect(response.status == 200)
        #expect(transport.requests(to: "/instances/db").count == 3)
        #expect(transport.requests(to: "/token").count == 1)
    }

    @Test func aNonIdempotentCallIsRetriedOnlyWhenItCannotHaveReachedTheServer() async throws {
        let (unavailable, sent503) = try makeClient { _, _ in ScriptedTransport.googleError(503, "UNAVAILABLE", "backend error") }
        await #expect(throws: GCPServiceError.self) { try await unavailable.send(Self.promote) }
        #expect(sent503.requests(to: "/promoteReplica").count == 1)

        let (throttled, sent429) = try makeClient { _, n in
            n == 1 ? ScriptedTransport.googleError(429, "RESOURCE_EXHAUSTED", "Quota exceeded") : ScriptedTransport.json(200, ["name": "op-1"])
        }
        _ = try await throttled.send(Self.promote)
        #expect(sent429.requests(to: "/promoteReplica").count == 2)

        let (refused, sentRefused) = try makeClient { request, n in
            if n == 1 { throw TransportError(kind: .connect, url: request.url, detail: "connection refused") }
            return ScriptedTransport.json(200, ["name": "op-1"])
        }
        _ = try await refused.send(Self.promote)
        #expect(sentRefused.requests(to: "/promoteReplica").count == 2)

        let (timedOut, sentTimeout) = try makeClient { request, _ in throw TransportError(kind: .timeout, url: request.url, detail: "") }
        await #expect(throws: TransportError.self) { try await timedOut.send(Self.promote) }
        #expect(sentTimeout.requests(to: "/promoteReplica").count == 1)
        await #expect(throws: TransportError.self) { try await timedOut.send(Self.get) }
        #expect(sentTimeout.requests(to: "/instances/db").count == 3)
    }

    @Test func aRefusedTokenIsReplacedOnceThenTheErrorStands() async throws {
        let (client, transport) = try makeClient { request, _ in
            request.headers["Authorization"] == "Bearer ya29.token-2"
                ? ScriptedTransport.json(200, ["name": "db"])
                : ScriptedTransport.googleError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        }
        _ = try await client.send(Self.get)
        #expect(transport.requests(to: "/token").count == 2)

        let (always, sent) = try makeClient { _, _ in ScriptedTransport.googleError(401, "UNAUTHENTICATED", "invalid credentials") }
        let error = await #expect(throws: GCPServiceError.self) { try await always.send(Self.get) }
        #expect(error?.category == .authentication)
        #expect(sent.requests(to: "/instances/db").count == 2)
        #expect(sent.requests(to: "/token").count == 2)
    }

    @Test func googlesErrorModelIsDecodedAndTheTokenNeverShows() async throws {
        let (client, _) = try makeClient { _, _ in
            ScriptedTransport.googleError(403, "PERMISSION_DENIED", "caller ya29.token-1 lacks cloudsql.instances.get", reason: "IAM_PERMISSION_DENIED")
        }
        let error = try #require(await #expect(throws: GCPServiceError.self) { try await client.send(Self.get) })
        #expect(error.category == .permissionDenied)
        #expect(error.status == "PERMISSION_DENIED")
        #expect(error.reason == "IAM_PERMISSION_DENIED")
        #expect(error.description == "sqladmin.instances.get: HTTP 403 PERMISSION_DENIED (IAM_PERMISSION_DENIED): caller [redacted] lacks cloudsql.instances.get")
    }

    @Test func headersEndpointOverrideAndOneTokenForManyCalls() async throws {
        let (client, transport) = try makeClient(environment: ["CLOUDSDK_API_ENDPOINT_OVERRIDES_SQLADMIN": "http://127.0.0.1:1/sqladmin"]) { _, _ in
            ScriptedTransport.json(200, ["name": "db"])
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { _ = try await client.send(Self.get) } }
            try await group.waitForAll()
        }
        let calls = transport.requests(to: "/instances/db")
        #expect(calls.count == 20)
        #expect(transport.requests(to: "/token").count == 1)
        #expect(calls[0].url == "http://127.0.0.1:1/sqladmin/v1/projects/p/instances/db")
        #expect(calls[0].headers["x-goog-user-project"] == "billing-project")
        #expect(calls[0].headers["Authorization"] == "Bearer ya29.token-1")
    }

    @Test func aMalformedEndpointOverrideIsConfigurationError() {
        let error = #expect(throws: GoogleAuthError.self) {
            try GCPEndpoints(environment: ["CLOUDSDK_API_ENDPOINT_OVERRIDES_DNS": "dns.local:8080"])
        }
        #expect(error?.kind == .invalidConfiguration)
        #expect(error?.description.contains("CLOUDSDK_API_ENDPOINT_OVERRIDES_DNS") == true)
    }
}
