import DRCore
import Foundation
import Testing
@testable import AWSProvider

/// The local test bed started by `scripts/test.sh` (Tests/TestBed/testbed.sh): moto with SigV4
/// verification on, behind the fault-injecting proxy. Tests that need it fail with a clear
/// message when it is not running rather than skipping silently.
struct TestBed: Sendable {
    let motoURL: String
    let proxyURL: String
    let accessKeyId: String
    let secretAccessKey: String
    let accountId: String
    let userArn: String

    static func require() throws -> TestBed {
        let env = ProcessInfo.processInfo.environment
        guard let moto = env["DRCTL_TESTBED_MOTO_URL"], let proxy = env["DRCTL_TESTBED_PROXY_URL"],
              let key = env["DRCTL_TESTBED_ACCESS_KEY_ID"], let secret = env["DRCTL_TESTBED_SECRET_ACCESS_KEY"] else {
            Issue.record("the test bed is not running: run scripts/test.sh, or `Tests/TestBed/testbed.sh start` and source its testbed.env")
            throw TestBedMissing()
        }
        return TestBed(motoURL: moto, proxyURL: proxy, accessKeyId: key, secretAccessKey: secret,
                       accountId: env["DRCTL_TESTBED_ACCOUNT_ID"] ?? "", userArn: env["DRCTL_TESTBED_USER_ARN"] ?? "")
    }

    var credentials: AWSCredentials { AWSCredentials(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey) }

    /// A client through the fault proxy (or straight to moto), recording backoff delays instead of sleeping.
    func client(throughProxy: Bool = true, credentials: AWSCredentials? = nil, timeouts: HTTPTimeouts = HTTPTimeouts(connect: .seconds(5), total: .seconds(20)),
                maxAttempts: Int = 3, delays: DelayRecorder = DelayRecorder()) -> AWSClient {
        // Recorded, so that actions run through `StepRun` / `RDSTestBed.run` have their calls checked
        // against their declared permissions (ActionCalls).
        let transport = RecordingTransport(CurlTransport(configuration: .init(timeouts: timeouts, proxy: ProxySettings())))
        return AWSClient(transport: transport, credentials: StaticCredentialProvider(credentials ?? self.credentials),
                         endpoints: StaticEndpointResolver(overrideURL: throughProxy ? proxyURL : motoURL),
                         retry: RetryStrategy(maxAttempts: maxAttempts),
                         sleep: { await delays.record($0) })
    }

    /// Replaces the proxy's fault rules (`[]` clears them) and resets its counters.
    func setFaults(_ rules: [[String: Any]], seed: Int = 7) async throws {
        let transport = CurlTransport(configuration: .init(proxy: ProxySettings()))
        _ = try await transport.send(HTTPRequest(method: "DELETE", url: proxyURL + "/_faults"))
        let body = try JSONSerialization.data(withJSONObject: ["seed": seed, "rules": rules])
        let response = try await transport.send(HTTPRequest(method: "POST", url: proxyURL + "/_faults",
                                                            headers: ["Content-Type": "application/json"], body: Array(body)))
        #expect(response.status == 200)
    }

    /// How many requests the proxy saw for a service's operation.
    /// The operations of `service` the fault proxy has seen since it was last cleared, in order.
    func operations(service: String) async throws -> [String] {
        let transport = CurlTransport(configuration: .init(proxy: ProxySettings()))
        let response = try await transport.send(HTTPRequest(method: "GET", url: proxyURL + "/_faults/log"))
        let entries = try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]] ?? []
        return entries.filter { $0["service"] as? String == service }.compactMap { $0["operation"] as? String }
    }

    func requestCount(service: String, operation: String) async throws -> Int {
        let transport = CurlTransport(configuration: .init(proxy: ProxySettings()))
        let response = try await transport.send(HTTPRequest(method: "GET", url: proxyURL + "/_faults/counts"))
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let requests = object?["requests"] as? [String: [String: Int]]
        return requests?[service]?[operation] ?? 0
    }

    /// A name unique to this test run, so tests never see each other's resources.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
    }
}

struct TestBedMissing: Error {}

actor DelayRecorder {
    private(set) var delays: [Double] = []
    func record(_ delay: Double) { delays.append(delay) }
}

/// Every suite that reads the fault proxy's counters or sets its rules lives inside this one
/// serialized suite: the proxy's rules and counts are global, so these suites must not overlap.
/// (Tests elsewhere talk to moto directly, never through the proxy.)
@Suite(.serialized)
enum TestBedSerial {}
