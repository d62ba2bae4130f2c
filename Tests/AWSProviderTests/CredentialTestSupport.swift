import DRCore
import Foundation
@testable import AWSProvider

/// A fresh directory used as HOME and for scripts; removed when the value goes away.
final class TemporaryHome: Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "drctl-creds-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path + "/.aws", withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` at `relativePath` under the directory and returns the absolute path.
    @discardableResult
    func write(_ relativePath: String, _ text: String, executable: Bool = false) throws -> String {
        let full = path + "/" + relativePath
        try text.write(toFile: full, atomically: true, encoding: .utf8)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: full) }
        return full
    }

    /// An environment with only this HOME and a PATH for scripts, plus `extra`.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        ["HOME": path, "PATH": "/usr/bin:/bin"].merging(extra) { _, new in new }
    }
}

/// Records STS calls and answers with credentials named after the role, so tests can see which
/// credentials were used for the next hop of a chain.
actor FakeSecurityTokenService: SecurityTokenService {
    struct AssumeRoleCall: Sendable, Equatable {
        var roleArn: String
        var sessionName: String
        var externalId: String?
        var durationSeconds: Int?
        var sourceAccessKeyId: String
        var region: String
    }

    struct WebIdentityCall: Sendable, Equatable {
        var roleArn: String
        var sessionName: String
        var token: String
        var region: String
    }

    struct Refused: Error, CustomStringConvertible {
        var description: String { "AccessDenied: not authorized to perform sts:AssumeRole" }
    }

    private(set) var assumeRoleCalls: [AssumeRoleCall] = []
    private(set) var webIdentityCalls: [WebIdentityCall] = []
    private let refuses: Bool

    init(refuses: Bool = false) {
        self.refuses = refuses
    }

    static func keyId(for roleArn: String) -> String {
        "ASIA-" + (roleArn.split(separator: "/").last.map(String.init) ?? roleArn)
    }

    func assumeRole(roleArn: String, sessionName: String, externalId: String?, durationSeconds: Int?,
                    using credentials: AWSCredentials, region: String) async throws -> AWSCredentials {
        assumeRoleCalls.append(AssumeRoleCall(roleArn: roleArn, sessionName: sessionName, externalId: externalId,
                                              durationSeconds: durationSeconds,
                                              sourceAccessKeyId: credentials.accessKeyId, region: region))
        if refuses { throw Refused() }
        return AWSCredentials(accessKeyId: Self.keyId(for: roleArn), secretAccessKey: "role-secret",
                              sessionToken: "role-token", expiration: Date().addingTimeInterval(3600))
    }

    func assumeRoleWithWebIdentity(roleArn: String, sessionName: String, webIdentityToken: String,
                                   durationSeconds: Int?, region: String) async throws -> AWSCredentials {
        webIdentityCalls.append(WebIdentityCall(roleArn: roleArn, sessionName: sessionName, token: webIdentityToken,
                                                region: region))
        if refuses { throw Refused() }
        return AWSCredentials(accessKeyId: Self.keyId(for: roleArn), secretAccessKey: "web-secret",
                              sessionToken: "web-token", expiration: Date().addingTimeInterval(3600))
    }
}

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let current: LockedValue<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_700_000_000)) {
        current = LockedValue(start)
    }

    var now: Date { current.value }

    func advance(by seconds: TimeInterval) {
        current.update { $0 = $0.addingTimeInterval(seconds) }
    }
}

final class LockedValue<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value { lock.withLock { stored } }

    func update(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}

/// Counts resolves; hands out credentials expiring `lifetime` after the clock's now
/// (never, when nil) or at `fixedExpiration`, after an optional delay, or fails when told to.
final class CountingProvider: CredentialProvider {
    private let calls = LockedValue(0)
    private let failing = LockedValue(false)
    let clock: ManualClock
    let lifetime: TimeInterval?
    let delay: Duration
    let fixedExpiration: Date?

    init(clock: ManualClock, lifetime: TimeInterval?, delay: Duration = .zero, fixedExpiration: Date? = nil) {
        self.clock = clock
        self.lifetime = lifetime
        self.delay = delay
        self.fixedExpiration = fixedExpiration
    }

    var count: Int { calls.value }

    func fail(_ value: Bool) { failing.update { $0 = value } }

    func resolve() async throws -> ResolvedCredentials {
        calls.update { $0 += 1 }
        let number = count
        if delay > .zero { try await Task.sleep(for: delay) }
        if failing.value { throw CredentialError(kind: .httpFailed, provider: "counting", message: "source is down") }
        let credentials = AWSCredentials(accessKeyId: "AKIACOUNT\(number)", secretAccessKey: "secret",
                                         expiration: fixedExpiration ?? lifetime.map { clock.now.addingTimeInterval($0) })
        return ResolvedCredentials(credentials: credentials, source: .explicit)
    }
}

/// Fixtures/metadata_server.py, run for one test: the ECS container endpoint and IMDSv2 on a
/// free localhost port.
final class MetadataServer {
    let port: Int
    private let process: Process

    init(arguments: [String] = []) throws {
        guard let script = Bundle.module.url(forResource: "metadata_server", withExtension: "py", subdirectory: "Fixtures") else {
            throw CredentialError(kind: .notFound, provider: "test", message: "metadata_server.py missing from the bundle")
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--ttl", "120"] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw CredentialError(kind: .notFound, provider: "test", message: "metadata server printed no port")
        }
        self.port = port
    }

    deinit { stop() }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// SIGKILL, because a child spawned from the test runner inherits its blocked SIGTERM.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Requests the server has seen, as "METHOD path" → count.
    func calls(using transport: any HTTPTransport) async throws -> [String: Int] {
        let response = try await transport.send(HTTPRequest(method: "GET", url: baseURL + "/calls"))
        let decoded = try JSONDecoder().decode([String: Int].self, from: Data(response.body))
        return decoded.filter { $0.key != "GET /calls" }
    }
}
