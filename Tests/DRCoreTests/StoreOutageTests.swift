@testable import DRCore
import Foundation
import Testing

/// A state store rides through short outages — a lock held past the busy timeout, an I/O error, a
/// PostgreSQL session terminated or the server restarted — and every write lands exactly once.
/// A store that stops accepting writes is a `.readOnly` error at once, not a long retry.
@Suite("State stores ride through outages; a read-only store is a clear error")
struct StoreOutageTests {
    // MARK: SQLite

    @Test("an I/O error on a journal write is retried: the append returns once and the entry is there once")
    func sqliteAppendRidesThroughAnIOError() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.path("state.db")
            let store = try SQLiteStateStore(path: path)
            try await store.createRun(makeRun("run-1"))
            SQLiteFaultInjection.failWrites(to: path, count: 1)
            defer { SQLiteFaultInjection.clear(path) }
            let sequence = try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: .outcome, stepId: "promote",
                                                               attempt: 1, detail: ["result": .string("succeeded")]))
            #expect(SQLiteFaultInjection.remaining(path) == 0, "the injected I/O error was never hit")
            #expect(sequence == 1)
            #expect(try await store.journal(runId: "run-1").map(\.stepId) == ["promote"])
        }
    }

    @Test("I/O errors on every write until the outage tolerance passes: .unavailable, and nothing half-written")
    func sqlitePersistentIOErrorIsAnOutage() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.path("state.db")
            let store = try SQLiteStateStore(path: path, retry: StoreRetry(outageTolerance: 0.5))
            try await store.createRun(makeRun("run-1"))
            SQLiteFaultInjection.failWrites(to: path, count: .max)
            let started = ContinuousClock.now
            let error = await #expect(throws: StateStoreError.self) {
                try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: .intent, stepId: "promote"))
            }
            let waited = ContinuousClock.now - started
            SQLiteFaultInjection.clear(path)
            #expect(error?.kind == .unavailable)
            #expect(error?.isOutage == true)
            #expect(waited >= .milliseconds(400) && waited < .seconds(20), "\(waited)")
            #expect(try await store.journal(runId: "run-1").isEmpty)
            #expect(try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: .note)) == 1)
        }
    }

    @Test("a retried append whose first try committed is not written twice")
    func sqliteRetriedAppendIsIdempotent() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try SQLiteStateStore(path: dir.path("state.db"))
            try await store.createRun(makeRun("run-1"))
            try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: .note))
            let entries = ["a", "b"].map { JournalEntry(runId: "run-1", at: Date(), kind: .stepStatus, stepId: $0) }
            let ids = entries.map { _ in UUID().uuidString }
            // The same call twice, as a retry after a lost answer makes it.
            let first = try await store.appendAttempt(entries, ids: ids, retrying: false)
            let second = try await store.appendAttempt(entries, ids: ids, retrying: true)
            #expect(first == [2, 3])
            #expect(second == [2, 3])
            #expect(try await store.journal(runId: "run-1").map(\.sequence) == [1, 2, 3])
        }
    }

    @Test("a new file created by many stores at once: every one opens, none sees 'database is locked'", arguments: 0..<15)
    func concurrentCreationOfANewFile(_ round: Int) async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.path("new/state.db")
            let failures = Failures()
            // Threads, not tasks: each open is synchronous and must really overlap the others.
            try await onOwnThread {
                DispatchQueue.concurrentPerform(iterations: 8) { _ in
                    do {
                        _ = try SQLiteStateStore(path: path)
                    } catch {
                        failures.append("\(error)")
                    }
                }
            }
            #expect(failures.all.isEmpty, "round \(round): \(failures.all)")
            let store = try SQLiteStateStore(path: path)
            #expect(try await store.schemaVersion() == SQLiteStateStore.latestSchemaVersion)
        }
    }

    @Test("a file replaced while the store has it open is .readOnly at once, not retried")
    func sqliteReplacedFileIsReadOnly() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.path("state.db")
            let store = try SQLiteStateStore(path: path)
            try await store.createRun(makeRun("run-1"))
            // What a restore from backup over the live file does.
            try FileManager.default.copyItem(atPath: path, toPath: path + ".copy")
            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.moveItem(atPath: path + ".copy", toPath: path)
            let started = ContinuousClock.now
            let error = await #expect(throws: StateStoreError.self) {
                try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: .note))
            }
            #expect(error?.kind == .readOnly, "\(String(describing: error))")
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    // MARK: PostgreSQL

    @Test("the server terminates the store's sessions again and again: every append lands exactly once")
    func postgresAppendsRideThroughTerminatedSessions() async throws {
        let bed = try PostgresTestBed.require()
        let (url, _) = try await bed.freshSchemaURL("outage")
        let application = "drctl-outage-\(UInt32.random(in: 0...UInt32.max))"
        // A tolerance no loaded test machine reaches: the point is that every append lands, once.
        let store = try await PostgresStateStore.open(url: url + "&application_name=\(application)", retry: StoreRetry(outageTolerance: 300))
        try await store.createRun(makeRun("run-1"))
        let admin = try await PostgresConnection.connect(bed.primarySuperuser)
        let killer = Task {
            for _ in 0..<15 {
                try await Task.sleep(for: .milliseconds(40))
                try await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                                      [.text(application)])
            }
        }
        var sequences: [Int64] = []
        for index in 0..<60 {
            sequences.append(try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: index.isMultiple(of: 2) ? .intent : .outcome,
                                                                 stepId: "s\(index)", detail: ["i": .int(index)])))
        }
        try await killer.value
        #expect(sequences == Array(1...60))
        let journal = try await store.journal(runId: "run-1")
        #expect(journal.map { $0.detail["i"] } == (0..<60).map { RunValue.int($0) })
    }

    @Test("the store's server restarts (pg_ctl restart) during appends: every append lands exactly once", .timeLimit(.minutes(2)))
    func postgresAppendsRideThroughARestart() async throws {
        try await PrivatePostgresPair.with { pair in
            let store = try await PostgresStateStore.open(url: pair.bed.primaryURL, retry: StoreRetry(outageTolerance: 300))
            try await store.createRun(makeRun("run-1"))
            let restart = Task {
                try await spawnAndWait(["/usr/sbin/runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D", pair.bed.directory + "/primary",
                                        "-l", pair.bed.directory + "/primary.log", "-m", "fast", "-w", "-t", "60", "restart"],
                                       output: pair.bed.directory + "/restart.log")
            }
            var sequences: [Int64] = []
            for index in 0..<40 {
                sequences.append(try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: .outcome, stepId: "s\(index)")))
                try await Task.sleep(for: .milliseconds(25))
            }
            #expect(try await restart.value == 0)
            #expect(sequences == Array(1...40))
            #expect(try await store.journal(runId: "run-1").map(\.stepId) == (0..<40).map { "s\($0)" })
        }
    }

    @Test("a retried PostgreSQL append whose first try committed is not written twice")
    func postgresRetriedAppendIsIdempotent() async throws {
        let bed = try PostgresTestBed.require()
        let (url, _) = try await bed.freshSchemaURL("idem")
        let store = try await PostgresStateStore.open(url: url)
        try await store.createRun(makeRun("run-1"))
        let entries = ["a", "b", "c"].map { JournalEntry(runId: "run-1", at: Date(), kind: .stepStatus, stepId: $0) }
        let ids = entries.map { _ in UUID().uuidString }
        #expect(try await store.appendAttempt(entries, ids: ids, retrying: false) == [1, 2, 3])
        #expect(try await store.appendAttempt(entries, ids: ids, retrying: true) == [1, 2, 3])
        #expect(try await store.journal(runId: "run-1").map(\.stepId) == ["a", "b", "c"])
    }

    @Test("a PostgreSQL store that turns read-only mid-run (default_transaction_read_only) is .readOnly, without waiting out the tolerance")
    func postgresTurnedReadOnlyIsReadOnly() async throws {
        let bed = try PostgresTestBed.require()
        let (url, schema) = try await bed.freshSchemaURL("ro")
        let role = "ro_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try await PostgresConnection.connect(bed.primarySuperuser)
        try await admin.query("CREATE ROLE \(role) LOGIN PASSWORD '\(bed.password)'")
        try await admin.query("GRANT ALL ON SCHEMA \(schema) TO \(role)")
        defer { Task { _ = try? await admin.query("ALTER ROLE \(role) NOLOGIN") } }
        let roleURL = url.replacingOccurrences(of: "://drctl:", with: "://\(role):")
        // A long tolerance: a read-only server must fail at once, not after retrying until it passes.
        let store = try await PostgresStateStore.open(url: roleURL, retry: StoreRetry(outageTolerance: 300))
        try await store.createRun(makeRun("run-1"))
        // New sessions of the role are read-only; the store's current one is ended, so its next
        // write reconnects into a read-only session.
        try await admin.query("ALTER ROLE \(role) SET default_transaction_read_only = on")
        try await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [.text(role)])
        let started = ContinuousClock.now
        let error = await #expect(throws: StateStoreError.self) {
            try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: .outcome, stepId: "promote"))
        }
        #expect(error?.kind == .readOnly, "\(String(describing: error))")
        #expect(ContinuousClock.now - started < .seconds(120))
        #expect(error?.description.contains(bed.password) == false)
    }

    @Test("the hot standby opened read-write is .readOnly; opened to read, it reads what the primary wrote")
    func postgresStandbyReadsButDoesNotOpenForWriting() async throws {
        let bed = try PostgresTestBed.require()
        let (url, schema) = try await bed.freshSchemaURL("stby")
        let primary = try await PostgresStateStore.open(url: url)
        try await primary.createRun(makeRun("run-1"))
        try await primary.append(JournalEntry(runId: "run-1", at: Date(), kind: .note))
        let standbyURL = bed.standbyURL + "?options=-csearch_path%3D\(schema)"
        let writable = await #expect(throws: StateStoreError.self) { _ = try await PostgresStateStore.open(url: standbyURL) }
        #expect(writable?.kind == .readOnly, "\(String(describing: writable))")
        let reader = try await PostgresStateStore.open(url: standbyURL, readOnly: true)
        var seen: RunRecord?
        for _ in 0..<100 where seen == nil {
            seen = try await reader.run("run-1")
            if seen == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(seen?.id == "run-1")
        #expect(try await reader.journal(runId: "run-1").count == 1)
    }

    @Test("a store opened to read with no drctl schema yet reads as empty and says so; it writes nothing", arguments: ["sqlite", "postgres"])
    func readOnlyStoreWithoutSchemaIsEmpty(_ kind: String) async throws {
        try await TemporaryDirectory.with { dir in
            let store: any StateStore
            var check: () async throws -> Bool
            if kind == "sqlite" {
                let path = dir.path("absent/state.db")
                store = try SQLiteStateStore(path: path, readOnly: true)
                check = { !FileManager.default.fileExists(atPath: path) && !FileManager.default.fileExists(atPath: dir.path("absent")) }
            } else {
                let bed = try PostgresTestBed.require()
                let (url, schema) = try await bed.freshSchemaURL("empty")
                store = try await PostgresStateStore.open(url: url, readOnly: true)
                let admin = try await PostgresConnection.connect(bed.primaryURL)
                check = {
                    try await admin.query("SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", [.text(schema)])
                        .first?.decode(Int.self, 0) == 0
                }
            }
            #expect(try await store.runs(status: nil, limit: 10).isEmpty)
            #expect(try await store.run("run-1") == nil)
            #expect(try await store.journal(runId: "run-1").isEmpty)
            #expect(try await store.lease(scope: "failover") == nil)
            #expect(try await store.missingSchemaNote()?.contains("no drctl") == true)
            let error = await #expect(throws: StateStoreError.self) { try await store.createRun(makeRun("run-1")) }
            #expect(error?.kind == .readOnly)
            #expect(try await check())
        }
    }
}

/// Errors collected from several threads.
private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ item: String) { lock.withLock { items.append(item) } }
    var all: [String] { lock.withLock { items } }
}
