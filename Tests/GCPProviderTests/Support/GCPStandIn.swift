import DRCore
import Foundation
import Testing
@testable import GCPProvider

/// The GCP control-plane stand-in of the test bed (Tests/TestBed/gcpbed.py, started by
/// `testbed.sh`). Tests that need it fail with a clear message when it is not running.
struct GCPStandIn: Sendable {
    struct Missing: Error {}

    let url: String
    let keyFile: String
    let adcFile: String
    let project: String
    let serviceAccount: String
    static let gceAccount = "drctl-gce@drctl-dr.iam.gserviceaccount.com"
    let transport = CurlTransport(configuration: .init(proxy: ProxySettings()))

    static func require() throws -> GCPStandIn {
        let env = ProcessInfo.processInfo.environment
        guard let url = env["DRCTL_TESTBED_GCP_URL"], let key = env["DRCTL_TESTBED_GCP_KEY_FILE"], let adc = env["DRCTL_TESTBED_GCP_ADC_FILE"],
              let project = env["DRCTL_TESTBED_GCP_PROJECT"], let account = env["DRCTL_TESTBED_GCP_SA_EMAIL"] else {
            Issue.record("the GCP stand-in is not running: run scripts/test.sh, or `Tests/TestBed/testbed.sh start` and source its testbed.env")
            throw Missing()
        }
        return GCPStandIn(url: url, keyFile: key, adcFile: adc, project: project, serviceAccount: account)
    }

    /// What every test environment has: the API overrides pointing here, an empty home, no metadata server.
    func environment(_ extra: [String: String], home: TemporaryDirectory) -> [String: String] {
        var env = ["HOME": home.path, "NO_GCE_CHECK": "true",
                   "CLOUDSDK_API_ENDPOINT_OVERRIDES_SQLADMIN": url + "/sqladmin/",
                   "CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS": url + "/iamcredentials/",
                   "CLOUDSDK_API_ENDPOINT_OVERRIDES_OAUTH2": url + "/oauth2/"]
        env.merge(extra) { $1 }
        return env
    }

    func credentials(_ environment: [String: String], impersonate: String? = nil) async throws -> GoogleCredentials {
        try await ApplicationDefaultCredentials(environment: environment, transport: transport,
                                                endpoints: try GCPEndpoints(environment: environment), impersonate: impersonate).resolve()
    }

    func client(_ credentials: GoogleCredentials, environment: [String: String], maxAttempts: Int = 3) throws -> GCPClient {
        GCPClient(transport: transport, credentials: credentials, endpoints: try GCPEndpoints(environment: environment),
                  retry: RetryStrategy(maxAttempts: maxAttempts, baseDelay: 0.01, maximumBackoff: 0.05))
    }

    /// `sqladmin.instances.list` of the bed's project: any principal with a role there may make it.
    func listInstances(_ client: GCPClient) async throws -> HTTPResponse {
        try await client.send(GCPRequest(service: .sqladmin, methodId: "sqladmin.instances.list", httpMethod: "GET",
                                         path: "v1/projects/\(project)/instances"))
    }

    @discardableResult
    func admin(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data()
        let response = try await transport.send(HTTPRequest(method: method, url: url + "/_gcp/" + path,
                                                            headers: ["Content-Type": "application/json"], body: Array(data)))
        guard response.status == 200 else {
            Issue.record("stand-in admin \(method) \(path): HTTP \(response.status) \(response.bodyText)")
            throw Missing()
        }
        return try JSONSerialization.jsonObject(with: Data(response.body))
    }

    /// How many tokens the bed has issued to `principal`.
    func tokensIssued(to principal: String) async throws -> Int {
        let tokens = try await admin("GET", "tokens") as? [[String: Any]] ?? []
        return tokens.filter { $0["principal"] as? String == principal }.count
    }

    /// Calls of one API method the bed has answered (by discovery id: `sql.instances.list`).
    func calls(_ methodId: String) async throws -> Int {
        (try await admin("GET", "calls") as? [String: Int])?[methodId] ?? 0
    }

    func expectNoViolations(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let violations = try await admin("GET", "violations") as? [Any] ?? []
        #expect(violations.isEmpty, "discovery-document violations: \(violations)", sourceLocation: sourceLocation)
    }
}
