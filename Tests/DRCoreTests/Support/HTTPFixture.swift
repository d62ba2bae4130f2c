import DRCore
import Foundation
import Testing

/// The Python test server in `Fixtures/http_fixture.py`, running as a child process.
/// Use `HTTPFixture.with(...)` so the process is stopped whether the test passes, fails or throws;
/// the server also exits when its stdin closes, so it cannot outlive a crashed test run.
final class HTTPFixture: @unchecked Sendable {
    let port: Int
    private let process: Process
    private let stdinPipe: Pipe

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var httpsBaseURL: String { "https://127.0.0.1:\(port)" }

    private init(port: Int, process: Process, stdinPipe: Pipe) {
        self.port = port
        self.process = process
        self.stdinPipe = stdinPipe
    }

    static func with<Result>(_ arguments: [String] = [],
                             _ body: (HTTPFixture) async throws -> Result) async throws -> Result {
        let fixture = try await start(arguments)
        do {
            let result = try await body(fixture)
            await fixture.stop()
            return result
        } catch {
            await fixture.stop()
            throw error
        }
    }

    static func start(_ arguments: [String] = []) async throws -> HTTPFixture {
        TestProcessEnvironment.prepare()
        let script = try #require(Bundle.module.url(forResource: "http_fixture", withExtension: "py",
                                                    subdirectory: "Fixtures"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--ttl", "120"] + arguments
        let stdout = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        try process.run()
        // The first stdout line is the port; read it off the cooperative pool (a blocking read).
        let line = await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            DispatchQueue.global().async {
                var bytes: [UInt8] = []
                while let chunk = try? stdout.fileHandleForReading.read(upToCount: 1), let byte = chunk.first,
                      byte != UInt8(ascii: "\n") {
                    bytes.append(byte)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
        guard let port = Int(line) else {
            process.terminate()
            throw FixtureStartFailure(output: line)
        }
        return HTTPFixture(port: port, process: process, stdinPipe: stdin)
    }

    /// Stops the server and waits for it, so its port is closed when this returns.
    /// SIGKILL, not SIGTERM: the server inherits the signal mask of the Dispatch thread that
    /// started it, with SIGTERM blocked. The wait is on a thread of its own: on one of the task
    /// pool's threads (two on a 2-core machine) it would stall every other test meanwhile.
    func stop() async {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? stdinPipe.fileHandleForWriting.close()
        let process = self.process
        _ = try? await onOwnThread { process.waitUntilExit() }
    }
}

struct FixtureStartFailure: Error, CustomStringConvertible {
    let output: String
    var description: String { "http_fixture.py did not print a port (got \"\(output)\")" }
}

/// Process-wide environment the transport tests run under, set once before any transport or child
/// process exists (setenv is not safe while other threads read the environment).
enum TestProcessEnvironment {
    /// CI machines commonly export no_proxy=127.0.0.1,localhost. The transport decides the proxy
    /// from its `ProxySettings` alone, so it must ignore this; setting it proves that it does.
    private static let prepared: Void = {
        setenv("no_proxy", "127.0.0.1,localhost", 1)
        setenv("NO_PROXY", "127.0.0.1,localhost", 1)
    }()

    static func prepare() { _ = prepared }
}

/// What `/echo` returns.
struct EchoedRequest: Decodable {
    let method: String
    let path: String
    let headers: [[String]]
    let body_base64: String

    var body: [UInt8] { [UInt8](Data(base64Encoded: body_base64) ?? Data()) }
    var headerNames: [String] { headers.map { $0[0].lowercased() } }

    func values(for name: String) -> [String] {
        headers.filter { $0[0].caseInsensitiveEquals(name) }.map { $0[1] }
    }

    init(_ response: HTTPResponse) throws {
        self = try JSONDecoder().decode(EchoedRequest.self, from: Data(response.body))
    }
}

/// A transport that ignores the environment's proxy settings, with short test timeouts.
func makeTestTransport(total: Duration = .seconds(15), maximumResponseBytes: Int = 64 << 20,
                       proxy: ProxySettings = ProxySettings(), caBundlePath: String? = nil) -> CurlTransport {
    TestProcessEnvironment.prepare()
    return CurlTransport(configuration: .init(
        timeouts: HTTPTimeouts(connect: .seconds(5), total: total),
        maximumResponseBytes: maximumResponseBytes, proxy: proxy, caBundlePath: caBundlePath))
}

/// The `TransportError` a send failed with; records a test failure for any other outcome.
func transportError(_ body: () async throws -> HTTPResponse,
                    sourceLocation: Testing.SourceLocation = #_sourceLocation) async -> TransportError? {
    do {
        let response = try await body()
        Issue.record("expected a TransportError, got HTTP \(response.status)", sourceLocation: sourceLocation)
        return nil
    } catch let error as TransportError {
        return error
    } catch {
        Issue.record("expected a TransportError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
