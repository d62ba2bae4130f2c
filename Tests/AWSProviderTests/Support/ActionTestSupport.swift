import Foundation
import Testing
@testable import AWSProvider
@testable import DRCore

/// Keeps a copy of every request sent through it, so tests can check them against botocore.
final class RecordingTransport: HTTPTransport, @unchecked Sendable {
    private let inner: any HTTPTransport
    private let lock = NSLock()
    private var recorded: [HTTPRequest] = []

    init(_ inner: any HTTPTransport) { self.inner = inner }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        lock.withLock { recorded.append(request) }
        ActionCalls.current?.record(request)
        return try await inner.send(request)
    }

    var requests: [HTTPRequest] { lock.withLock { recorded } }
}

/// The verdict of Fixtures/check_request_shapes.py for one request.
struct RequestShapeVerdict: Decodable, Sendable {
    let service: String?
    let operation: String?
    let problems: [String]
}

extension TestBed {
    /// A client whose requests are recorded; straight to moto unless the suite owns the proxy.
    func recordingClient(throughProxy: Bool = false, maxAttempts: Int = 3) -> (AWSClient, RecordingTransport) {
        let transport = RecordingTransport(CurlTransport(configuration: .init(timeouts: HTTPTimeouts(connect: .seconds(5), total: .seconds(20)),
                                                                              proxy: ProxySettings())))
        let client = AWSClient(transport: transport, credentials: StaticCredentialProvider(credentials),
                               endpoints: StaticEndpointResolver(overrideURL: throughProxy ? proxyURL : motoURL),
                               retry: RetryStrategy(maxAttempts: maxAttempts, baseDelay: 0.05, maximumBackoff: 0.2))
        return (client, transport)
    }

    /// Sets the patched moto's delays (`/_testbed/config`). Suites only ever set the defaults' values
    /// for S3 and Route 53, so suites running in parallel never see different dynamics.
    func configure(_ patch: [String: Any]) async throws {
        let body = try JSONSerialization.data(withJSONObject: patch)
        let response = try await CurlTransport(configuration: .init(proxy: ProxySettings()))
            .send(HTTPRequest(method: "POST", url: motoURL + "/_testbed/config", headers: ["Content-Type": "application/json"], body: Array(body)))
        #expect(response.status == 200, "testbed config: \(response.bodyText)")
    }

    static let replicationDelay = 2.0
    static let insyncDelay = 2.0

    func configureTrafficDelays() async throws {
        try await configure(["s3": ["replication_delay": Self.replicationDelay], "route53": ["insync": Self.insyncDelay]])
    }
}

/// One step run the way the engine runs it: a read-only action is verified; a mutating one is
/// observed, and acted on and verified only when the observation says the state does not hold yet.
struct StepRun: Sendable {
    let outputs: [String: RunValue]
    let observedDone: Bool

    /// `resumed`: the attempt follows a crash (or is a retry): mutating actions observe first then.
    static func run(_ action: any RunbookAction, _ arguments: [String: RunValue], stepId: String = "step",
                    runId: String = TestBed.uniqueName("run"), timeout: Double = 60, resumed: Bool = false) async throws -> StepRun {
        try await ActionCalls.checkingPermissions(of: action) {
            try await runUnchecked(action, arguments, stepId: stepId, runId: runId, timeout: timeout, resumed: resumed)
        }
    }

    private static func runUnchecked(_ action: any RunbookAction, _ arguments: [String: RunValue], stepId: String,
                                     runId: String, timeout: Double, resumed: Bool) async throws -> StepRun {
        let invocation = ActionInvocation(runId: runId, stepId: stepId, attempt: 1, arguments: arguments, firstStartedAt: Date(),
                                          deadline: Date().addingTimeInterval(timeout), isResume: resumed,
                                          services: ActionServices(messages: { _ in }))
        guard action.isMutating else { return StepRun(outputs: try await action.verify(invocation, acted: [:]), observedDone: false) }
        if let observed = try await action.observe(invocation) { return StepRun(outputs: observed, observedDone: true) }
        let acted = try await action.act(invocation)
        return StepRun(outputs: try await action.verify(invocation, acted: acted), observedDone: false)
    }
}

/// A recorded request as Fixtures/check_request_shapes.py reads it.
func requestShapeInput(_ request: HTTPRequest) -> [String: Any] {
    var headers: [String: String] = [:]
    for (name, value) in request.headers { headers[name] = value }
    return ["method": request.method, "url": request.url, "headers": headers, "body_base64": Data(request.body).base64EncodedString()]
}

/// Runs Fixtures/check_request_shapes.py over recorded requests.
func checkRequestShapes(_ requests: [HTTPRequest]) throws -> [RequestShapeVerdict] {
    guard let script = Bundle.module.url(forResource: "check_request_shapes", withExtension: "py", subdirectory: "Fixtures") else {
        Issue.record("check_request_shapes.py missing from the bundle")
        return []
    }
    let encoded = requests.map(requestShapeInput)
    let input = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-shapes-\(UUID().uuidString).json")
    try JSONSerialization.data(withJSONObject: encoded).write(to: input)
    defer { try? FileManager.default.removeItem(at: input) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script.path, input.path]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    return try JSONDecoder().decode([RequestShapeVerdict].self, from: data)
}

/// Asserts every recorded request is a model operation with known members; returns the operations seen.
@discardableResult
func expectRequestsMatchBotocore(_ transport: RecordingTransport, sourceLocation: SourceLocation = #_sourceLocation) throws -> Set<String> {
    let verdicts = try checkRequestShapes(transport.requests)
    #expect(verdicts.count == transport.requests.count, sourceLocation: sourceLocation)
    for verdict in verdicts where verdict.operation == nil || !verdict.problems.isEmpty {
        Issue.record("\(verdict.service ?? "?") \(verdict.operation ?? "unknown operation"): \(verdict.problems)", sourceLocation: sourceLocation)
    }
    return Set(verdicts.compactMap(\.operation))
}

/// Fixtures/arc_stub.py, one Route 53 ARC cluster endpoint on a free loopback port.
func ARCStub(controls: [String: String]) throws -> FixtureServer {
    try FixtureServer(script: "arc_stub", arguments: controls.flatMap { ["--control", "\($0.key)=\($0.value)"] })
}

extension FixtureServer {
    /// Cluster endpoints carry a path (`…amazonaws.com/v1`); so does the ARC stub's.
    var endpointURL: String { "\(baseURL)/v1" }
}

/// A loopback port with nothing listening: a cluster endpoint whose region is down.
func closedLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw TestBedMissing() }
    return Int(UInt16(bigEndian: address.sin_port))
}
