import DRCore
import Foundation
import Testing

/// Two real `drctl` processes sharing one PostgreSQL state store: the lease row under an advisory
/// lock makes a runbook single-flight across processes (and hosts).
@Suite("drctl with a shared PostgreSQL state store: single-flight, takeover after a crash", .serialized)
struct PostgresSingleFlightTests {
    static let runbook = """
    name: pg-failover-rehearsal
    steps:
      - id: settle
        action: wait
        with: { duration: SECONDS }
      - id: done
        action: notify
        needs: [settle]
        with: { message: rehearsal done }
    """

    @Test("two processes start the same runbook at once: exactly one proceeds, the other exits 7 naming the holder")
    func exactlyOneOfTwoProceeds() async throws {
        let store = try await SharedStore.make()
        let home = try TemporaryHome()
        try home.write("rehearsal.yaml", Self.runbook.replacingOccurrences(of: "SECONDS", with: "3s"))
        let file = home.url.appendingPathComponent("rehearsal.yaml").path
        // One through --state, one through DRCTL_STATE_URL.
        let first = try RunningDrctl(["run", file, "--yes", "--state", store.url], home: home.url)
        let second = try RunningDrctl(["run", file, "--yes"], environment: ["DRCTL_STATE_URL": store.url], home: home.url)
        let results = [first.wait(), second.wait()]
        let statuses = results.map(\.status).sorted()
        #expect(statuses == [0, 7], "\(results.map { "\($0.status): \($0.stderr)" })")
        let loser = try #require(results.first { $0.status == 7 })
        #expect(loser.stderr.contains("pg-failover-rehearsal is locked by run"), "\(loser.stderr)")
        for result in results {
            #expect(!result.stdout.contains(store.password) && !result.stderr.contains(store.password))
        }
    }

    @Test("SIGKILL the holder: the lease blocks others until it expires, then `drctl resume` from another process finishes the run")
    func takeoverAfterTheHolderIsKilled() async throws {
        let store = try await SharedStore.make()
        let home = try TemporaryHome()
        try home.write("rehearsal.yaml", Self.runbook.replacingOccurrences(of: "SECONDS", with: "8s"))
        let file = home.url.appendingPathComponent("rehearsal.yaml").path
        let environment = ["DRCTL_STATE_URL": store.url]
        let holder = try RunningDrctl(["run", file, "--yes", "--lease-ttl", "3"], environment: environment, home: home.url)

        // `drctl runs` shows the holder once the run has its lease.
        var runId: String?
        var lock: String?
        for _ in 0..<100 where lock == nil {
            try await Task.sleep(for: .milliseconds(100))
            let listed = try DrctlProcess.run(["runs", "--output", "json"], environment: environment, home: home.url)
            let rows = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [[String: Any]] ?? []
            runId = rows.first?["id"] as? String
            lock = rows.first?["lockHeldBy"] as? String
        }
        let id = try #require(runId)
        #expect(lock?.contains("pid \(holder.processIdentifier)") == true, "\(String(describing: lock))")

        holder.kill()
        let killed = holder.wait()
        #expect(killed.status == 9)

        // Still leased: a resume right away is refused.
        // From another machine (DRCTL_HOST): it cannot see that the holder's process is gone,
        // so only the lease's expiry lets it take over.
        let otherMachine = environment.merging(["DRCTL_HOST": "other-machine"]) { $1 }
        let early = try DrctlProcess.run(["resume", id, "--yes", "--lease-ttl", "3"], environment: otherMachine, home: home.url)
        #expect(early.status == 7, "\(early.stdout)\n\(early.stderr)")

        try await Task.sleep(for: .seconds(4))
        let resumed = try DrctlProcess.run(["resume", id, "--yes", "--lease-ttl", "3"], environment: otherMachine, home: home.url)
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        let shown = try DrctlProcess.run(["runs", "--output", "json"], environment: environment, home: home.url)
        let rows = (try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8))) as? [[String: Any]] ?? []
        #expect(rows.first?["status"] as? String == "succeeded")
        #expect(rows.first?["lockHeldBy"] == nil || rows.first?["lockHeldBy"] is NSNull)
    }
}

/// A fresh schema in the test bed's PostgreSQL database, reached by a URL whose search_path is it.
private struct SharedStore {
    let url: String
    let password: String

    static func make() async throws -> SharedStore {
        let env = ProcessInfo.processInfo.environment
        guard let primary = env["DRCTL_TESTBED_PG_PRIMARY_URL"], let password = env["DRCTL_TESTBED_PG_PASSWORD"] else {
            Issue.record("the PostgreSQL test bed is not running: run scripts/test.sh, or `Tests/TestBed/postgres.sh start DIR` and source DIR/pg.env")
            throw CancellationError()
        }
        let schema = "cli_\(UInt32.random(in: 0...UInt32.max))"
        let connection = try await PostgresConnection.connect(primary)
        try await connection.query("CREATE SCHEMA \(schema)")
        await connection.close()
        return SharedStore(url: "\(primary)?options=-csearch_path%3D\(schema)", password: password)
    }
}

/// A `drctl` process running in the background (DrctlProcess.run waits for the end).
private final class RunningDrctl: @unchecked Sendable {
    private let process = Process()
    private let out = Pipe()
    private let err = Pipe()

    init(_ arguments: [String], environment: [String: String] = [:], home: URL) throws {
        process.executableURL = DrctlProcess.executable
        process.arguments = arguments
        var env: [String: String] = ["PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": home.path]
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var processIdentifier: Int32 { process.processIdentifier }

    func kill() { _ = Foundation.kill(process.processIdentifier, SIGKILL) }

    func wait() -> DrctlProcess.Result {
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return DrctlProcess.Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                                   stderr: String(decoding: stderr, as: UTF8.self))
    }
}
