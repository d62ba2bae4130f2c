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

/// Fixtures/metadata_server.py: the ECS container endpoint and IMDSv2 on a free loopback port.
func MetadataServer(arguments: [String] = []) throws -> FixtureServer {
    try FixtureServer(script: "metadata_server", arguments: arguments)
}
