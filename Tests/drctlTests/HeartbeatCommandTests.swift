import DRCore
import Foundation
import Testing

/// `drctl heartbeat` through the real binary, against the test bed's primary.
@Suite("drctl heartbeat", .serialized)
struct HeartbeatCommandTests {
    @Test("`drctl heartbeat --duration 2s` writes beats to drctl_heartbeat and prints a summary without the password")
    func writesBeatsForTheGivenDuration() async throws {
        let (url, password) = try await Self.primary()
        let source = "cli-\(UInt32.random(in: 0...UInt32.max))"
        let started = Date()
        let result = try DrctlProcess.run(["heartbeat", "--url-env", "PRIMARY", "--interval", "200ms", "--duration", "2s", "--source", source],
                                          environment: ["PRIMARY": url])
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(elapsed >= 1.8 && elapsed < 15, "ran \(elapsed) s")
        #expect(result.stdout.contains("beat(s) to postgres://127.0.0.1:"), "\(result.stdout)")
        #expect(!result.stdout.contains(password) && !result.stderr.contains(password))

        let connection = try await PostgresConnection.connect(url)
        let row = try #require(try await connection.query("SELECT seq, now() - beat_at < interval '30 seconds' FROM drctl_heartbeat WHERE source = $1",
                                                          [.text(source)]).first)
        await connection.close()
        let seq = try row.decode(Int.self, 0)
        #expect(seq >= 7 && seq <= 12, "seq \(seq) after 2 s at 200 ms")
        #expect(try row.decode(Bool.self, 1))
        #expect(result.stdout.contains("(seq \(seq))"), "\(result.stdout)")
    }

    @Test("SIGTERM stops `drctl heartbeat` after the current beat; it exits 0 with its summary")
    func stopsOnSigterm() async throws {
        let (url, _) = try await Self.primary()
        let process = Process()
        process.executableURL = DrctlProcess.executable
        process.arguments = ["heartbeat", "--url-env", "PRIMARY", "--interval", "100ms", "--output", "json",
                             "--source", "sigterm-\(UInt32.random(in: 0...UInt32.max))"]
        process.environment = ["PATH": "/usr/bin:/bin", "NO_COLOR": "1", "PRIMARY": url]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try await Task.sleep(for: .milliseconds(1500))
        #expect(process.isRunning, "drctl heartbeat ended before it was told to stop")
        kill(process.processIdentifier, SIGTERM)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(String(decoding: data, as: UTF8.self))")
        #expect((summary["beats"] as? Int ?? 0) >= 3, "\(summary)")
    }

    @Test("an unset --url-env variable is a configuration error")
    func missingVariable() throws {
        let result = try DrctlProcess.run(["heartbeat", "--url-env", "DRCTL_NO_SUCH_VARIABLE", "--duration", "1s"])
        #expect(result.status == 10, "\(result.status) \(result.stderr)")
        #expect(result.stderr.contains("DRCTL_NO_SUCH_VARIABLE"))
    }

    private static func primary() async throws -> (url: String, password: String) {
        let env = ProcessInfo.processInfo.environment
        guard let primary = env["DRCTL_TESTBED_PG_PRIMARY_URL"], let password = env["DRCTL_TESTBED_PG_PASSWORD"] else {
            Issue.record("the PostgreSQL test bed is not running: run scripts/test.sh, or `Tests/TestBed/postgres.sh start DIR` and source DIR/pg.env")
            throw CancellationError()
        }
        return (primary, password)
    }
}
