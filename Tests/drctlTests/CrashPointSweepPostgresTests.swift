import Foundation
import Testing

/// The crash-point sweep of `CrashPointSweepTests` with the PostgreSQL state store (each run in a
/// schema of its own in the test bed's database), and the same points as store outages: instead
/// of killing drctl, the k-th append cuts every connection drctl has to the store.
@Suite("Crash-point sweep (PostgreSQL)")
struct CrashPointSweepPostgresTests {
    @Test("killed at every journal append, a run journaled in PostgreSQL resumes to the uninterrupted run's end")
    func everyPointResumesToTheSameEnd() throws {
        let database = try PostgresSweepDatabase.require()
        let sweep = StoreSweep(runbook: { CrashPointSweepTests.referenceRunbook(effects: $0, branches: CrashSweepScale.full ? 4 : 1) },
                               makeStore: { _ in (try database.freshStore().url, [:]) })
        // CI: every third point (before and after alternate), the first and the last two; the
        // SQLite sweep covers every point of the same runbook, the bench every point of both.
        try CrashPointSweepTests.sweepTheReferenceRunbook(sweep, label: "PostgreSQL", ciStride: 3)
    }

    // Journal writes retry through reconnects (bounded by --state-retry), so an outage at any
    // append changes nothing but the time the run takes.
    @Test("the store's connections cut at every journal append: the run goes on and ends as the uninterrupted run did")
    func storeOutageAtEveryPointChangesNothing() throws {
        let database = try PostgresSweepDatabase.require()
        let sweep = StoreSweep(runbook: { CrashPointSweepTests.referenceRunbook(effects: $0) },
                               makeStore: { _ in
                                   let store = try database.freshStore()
                                   return (store.url, ["DRCTL_CRASH_HOOK": store.cutConnections])
                               })
        // CI: every third point, as above; the bench: every point.
        try CrashPointSweepTests.sweepTheReferenceRunbook(sweep, label: "PostgreSQL outages", extra: ["DRCTL_CRASH_ACTION": "hook"], killed: false,
                                                          ciStride: 3)
    }
}

/// The test bed's PostgreSQL primary, where each sweep run gets a schema of its own.
struct PostgresSweepDatabase: Sendable {
    let primaryURL: String

    struct Store {
        /// `--state`: the schema on the search path, and an application_name no other run uses,
        /// so that `cutConnections` ends exactly this run's connections.
        let url: String
        /// A shell command that terminates every backend of this run's connections.
        let cutConnections: String
    }

    static func require() throws -> PostgresSweepDatabase {
        guard let primary = ProcessInfo.processInfo.environment["DRCTL_TESTBED_PG_PRIMARY_URL"] else {
            Issue.record("the PostgreSQL test bed is not running: run scripts/test.sh, or `Tests/TestBed/testbed.sh start DIR` and source DIR/testbed.env")
            throw CancellationError()
        }
        return PostgresSweepDatabase(primaryURL: primary)
    }

    func freshStore() throws -> Store {
        let name = "sweep_\(UInt32.random(in: 0...UInt32.max))_\(UInt32.random(in: 0...UInt32.max))"
        let created = try psql("CREATE SCHEMA \(name)")
        guard created.status == 0 else {
            Issue.record("CREATE SCHEMA failed: \(created.stderr)")
            throw CancellationError()
        }
        let cut = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '\(name)'"
        return Store(url: "\(primaryURL)?options=-csearch_path%3D\(name)&application_name=\(name)",
                     cutConnections: "/usr/bin/psql '\(primaryURL)' -Atqc \"\(cut)\"")
    }

    private func psql(_ sql: String) throws -> DrctlProcess.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = [primaryURL, "-Atqc", sql]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile(), errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return DrctlProcess.Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                                   stderr: String(decoding: errData, as: UTF8.self))
    }
}
