@testable import DRCore
import Foundation
import Testing

/// The `StateStore` behaviours, run against both stores (SQLite-only behaviours — WAL, file
/// permissions, busy timeouts — stay in StateStoreTests), plus what is PostgreSQL's own:
/// migrations in a schema, a newer schema refused, connection errors as store errors.
@Suite("StateStore behaviours on SQLite and PostgreSQL; PostgresStateStore migrations and errors")
struct PostgresStateStoreTests {
    enum Kind: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    /// A fresh, empty store location and a way to open (more) stores on it.
    struct Location: Sendable {
        let open: @Sendable () async throws -> any StateStore
        let cleanup: @Sendable () -> Void
    }

    static func location(_ kind: Kind) async throws -> Location {
        switch kind {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-pgtests-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let path = directory.appendingPathComponent("state.db").path
            return Location(open: { try SQLiteStateStore(path: path) }, cleanup: { try? FileManager.default.removeItem(at: directory) })
        case .postgres:
            let bed = try PostgresTestBed.require()
            let (url, _) = try await bed.freshSchemaURL("store")
            return Location(open: { try await PostgresStateStore.open(url: url) }, cleanup: {})
        }
    }

    // MARK: Runs

    @Test("a created run reads back field for field; a duplicate id is .conflict", arguments: Kind.allCases)
    func createdRunReadsBack(_ kind: Kind) async throws {
        let location = try await Self.location(kind)
        defer { location.cleanup() }
        let store = try await location.open()
        let run = makeRun("run-1", inputs: ["region": .string("us-west-2"), "rpo": .duration(3600), "dry": .bool(true),
                                            "hostile": .string("'); DROP TABLE runs; --")])
        try await store.createRun(run)
        let read = try #require(try await store.run("run-1"))
        expectSameRun(read, run)
        #expect(try await store.run("run-2") == nil)
        let error = await #expect(throws: StateStoreError.self) { try await store.createRun(makeRun("run-1")) }
        #expect(error?.kind == .conflict)
    }

    @Test("runs are listed newest first, filtered by status and limited", arguments: Kind.allCases)
    func runsListNewestFirst(_ kind: Kind) async throws {
        let location = try await Self.location(kind)
        defer { location.cleanup() }
        let store = try await location.open()
        let base = Date(timeIntervalSince1970: 1_750_000_000)
        for index in 0..<5 {
            try await store.createRun(makeRun("run-\(index)", status: index.isMultiple(of: 2) ? .succeeded : .failed,
                                              createdAt: base.addingTimeInterval(Double(index) * 0.25)))
        }
        #expect(try await store.runs(status: nil, limit: 10).map(\.id) == ["run-4", "run-3", "run-2", "run-1", "run-0"])
        #expect(try await store.runs(status: .succeeded, limit: 10).map(\.id) == ["run-4", "run-2", "run-0"])
        #expect(try await store.runs(status: .failed, limit: 1).map(\.id) == ["run-3"])
        #expect(try await store.runs(status: .paused, limit: 10).isEmpty)
    }

    @Test("updateRun changes status and updatedAt; an unknown run is .notFound", arguments: Kind.allCases)
    func updateRunChangesStatus(_ kind: Kind) async throws {
        let location = try await Self.location(kind)
        defer { location.cleanup() }
        let store = try await location.open()
        try await store.createRun(makeRun("run-1"))
        let at = Date(timeIntervalSince1970: 1_760_000_123.456789)
        try await store.updateRun("run-1", status: .paused, at: at)
        let read = try #require(try await store.run("run-1"))
        #expect(read.status == .paused)
        #expect(abs(read.updatedAt.timeIntervalSince(at)) < 1e-6)
        let error = await #expect(throws: StateStoreError.self) { try await store.updateRun("nope", status: .failed, at: at) }
        #expect(error?.kind == .notFound)
    }

    // MARK: Journal

    @Test("journal entries round-trip with every RunValue case, sub-second times and nil fields", arguments: Kind.allCases)
    func journalRoundTrips(_ kind: Kind) async throws {
        let location = try await Self.location(kind)
        defer { location.cleanup() }
        let store = try await location.open()
        try await store.createRun(makeRun("run-1"))
        let detail: [String: RunValue] = [
            "null": .null, "yes": .bool(true), "no": .bool(false), "int": .int(Int.max), "negative": .int(-42),
            "double": .double(0.1), "infinite": .double(-.infinity), "string": .string("café \"quoted\" / ✓\n"),
            "duration": .duration(5400), "list": .list([.int(1), .string("two"), .list([]), .map([:])]),
            "map": .map(["nested": .map(["deeper": .list([.null, .double(2.5)])])]),
        ]
        let entries = [
            JournalEntry(runId: "run-1", at: Date(timeIntervalSince1970: 1_760_000_000.123456), kind: .intent,
                         stepId: "promote", attempt: 2, detail: detail),
            JournalEntry(runId: "run-1", at: Date(timeIntervalSince1970: 1_760_000_000.5), kind: .stepStatus),
        ]
        for entry in entries { try await store.append(entry) }
        let journal = try await store.journal(runId: "run-1")
        try #require(journal.count == 2)
        for (read, written) in zip(journal, entries) {
            #expect(read.detail == written.detail)
            #expect(read.kind == written.kind)
            #expect(read.stepId == written.stepId)
            #expect(read.attempt == written.attempt)
            #expect(abs(read.at.timeIntervalSince(written.at)) < 1e-6)
        }
        #expect(try await store.journal(runId: "other").isEmpty)
    }

    @Test("entries appended together land in order with consecutive numbers, or none of them do", arguments: Kind.allCases)
    func entriesAppendedTogetherLandTogether(_ kind: Kind) async throws {
        let location = try await Self.location(kind)
        defer { location.cleanup() }
        let store = try await location.open()
        try await store.createRun(makeRun("run-1"))
        try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: .note))
        let steps = ["fence-a", "fence-b", "scale"]
        let sequences = try await store.append(contentsOf: steps.map {
            JournalEntry(runId: "run-1", at: Date(), kind: .stepStatus, stepId: $0, attempt: 1, detail: ["to": .string("running")])
        })
        #expect(sequences == [2, 3, 4])
        #expect(try await store.journal(runId: "run-1").map(\.stepId) == [nil] + steps)
        // One entry for a run that does not exist: nothing of the batch is written.
        await #expect(throws: StateStoreError.self) {
            try await store.append(contentsOf: [JournalEntry(runId: "run-1", at: Date(), kind: .note),
                                                JournalEntry(runId: "no-such-run", at: Date(), kind: .note)])
        }
        #expect(try await store.journal(runId: "run-1").count == 4)
        #expect(try await store.append(contentsOf: []) == [])
    }

    @Test("a journal write made by a cancelled task (a step's timeout, a second Ctrl-C) still lands", arguments: Kind.allCases)
    func aCancelledTasksJournalWriteLands(_ kind: Kind) async throws {
        let location = try await Self.location(kind)
        defer { location.cleanup() }
        let store = try await location.open()
        try await store.createRun(makeRun("run-1"))
        let write = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: .outcome, stepId: "promote", attempt: 1,
                                                       detail: ["ok": .bool(true)]))
        }
        #expect(try await write.value == 1)
        #expect(try await store.journal(runId: "run-1").map(\.stepId) == ["promote"])
    }

    @Test("sequence numbers are 1…n per run; appending to an unknown run is .notFound", arguments: Kind.allCases)
    func sequencesAreOneToN(_ kind: Kind) async throws {
        let location = try await Self.location(kind)
        defer { location.cleanup() }
        let store = try await location.open()
        try await store.createRun(makeRun("run-a"))
        try await store.createRun(makeRun("run-b"))
        var returned: [Int64] = []
        for index in 0..<30 {
            returned.append(try await store.append(JournalEntry(runId: "run-a", at: Date(), kind: index.isMultiple(of: 2) ? .note : .outcome,
                                                                detail: ["i": .int(index)])))
            if index.isMultiple(of: 3) { try await store.append(JournalEntry(runId: "run-b", at: Date(), kind: .note)) }
        }
        #expect(returned == Array(1...30))
        let journal = try await store.journal(runId: "run-a")
        #expect(journal.map(\.sequence) == Array(1...30))
        #expect(journal.map { $0.detail["i"] } == (0..<30).map { RunValue.int($0) })
        #expect(try await store.journal(runId: "run-b").map(\.sequence) == Array(1...10))
        let error = await #expect(throws: StateStoreError.self) {
            try await store.append(JournalEntry(runId: "ghost", at: Date(), kind: .note))
        }
        #expect(error?.kind == .notFound)
    }

    @Test("runs, journal and leases survive reopening; two stores append concurrently without loss", arguments: Kind.allCases)
    func twoStoresShareOneLocation(_ kind: Kind) async throws {
        let location = try await Self.location(kind)
        defer { location.cleanup() }
        let now = Date()
        do {
            let store = try await location.open()
            try await store.createRun(makeRun("run-1"))
            _ = try await store.acquireLease(scope: "failover", holder: makeHolder("run-1"), ttl: 60, now: now)
        }
        let first = try await location.open()
        let second = try await location.open()
        #expect(try await second.lease(scope: "failover")?.runId == "run-1")
        let perStore = 40
        let sequences = try await withThrowingTaskGroup(of: Int64.self) { group in
            for index in 0..<perStore {
                for (name, store) in [("first", first), ("second", second)] {
                    group.addTask {
                        try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: .note, detail: ["by": .string(name), "i": .int(index)]))
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(sequences.sorted() == Array(1...Int64(2 * perStore)))
        for store in [first, second] {
            let journal = try await store.journal(runId: "run-1")
            #expect(journal.map(\.sequence) == Array(1...Int64(2 * perStore)))
            #expect(journal.filter { $0.detail["by"] == .string("first") }.count == perStore)
        }
    }

    // MARK: Leases

    @Test("a lease is acquired, held against other runs, renewed by its run, taken over after expiry and released", arguments: Kind.allCases)
    func leaseLifecycle(_ kind: Kind) async throws {
        let location = try await Self.location(kind)
        defer { location.cleanup() }
        let store = try await location.open()
        let scope = "failover-\(UUID().uuidString)"
        let t0 = Date(timeIntervalSince1970: 1_760_000_000)
        #expect(try await store.lease(scope: scope) == nil)
        #expect(try await store.acquireLease(scope: scope, holder: makeHolder("run-a"), ttl: 60, now: t0) == .acquired)

        let held = try await store.acquireLease(scope: scope, holder: makeHolder("run-b"), ttl: 60, now: t0.addingTimeInterval(30))
        guard case .heldBy(let holder) = held else { Issue.record("run-b acquired a held lease: \(held)"); return }
        #expect(holder.runId == "run-a")
        #expect(holder.host == "host-run-a")
        #expect(holder.pid == 4242)
        #expect(abs(holder.expiresAt.timeIntervalSince(t0.addingTimeInterval(60))) < 1e-6)

        #expect(try await store.acquireLease(scope: scope + "-drill", holder: makeHolder("run-b"), ttl: 60, now: t0) == .acquired)

        // The same run from another process (a `drctl resume` elsewhere) is not a renewal.
        var elsewhere = makeHolder("run-a")
        elsewhere.pid = 777
        #expect(try await store.acquireLease(scope: scope, holder: elsewhere, ttl: 60, now: t0.addingTimeInterval(40)) != .acquired)
        #expect(try await store.acquireLease(scope: scope, holder: makeHolder("run-a"), ttl: 60, now: t0.addingTimeInterval(50)) == .acquired)
        let renewed = try #require(try await store.lease(scope: scope))
        #expect(abs(renewed.expiresAt.timeIntervalSince(t0.addingTimeInterval(110))) < 1e-6)
        #expect(abs(renewed.acquiredAt.timeIntervalSince(t0)) < 1e-6)
        #expect(try await store.acquireLease(scope: scope, holder: makeHolder("run-b"), ttl: 60, now: t0.addingTimeInterval(109)) != .acquired)

        #expect(try await store.acquireLease(scope: scope, holder: makeHolder("run-b"), ttl: 60, now: t0.addingTimeInterval(111)) == .acquired)
        #expect(try await store.lease(scope: scope)?.runId == "run-b")

        try await store.releaseLease(scope: scope, runId: "run-a")
        #expect(try await store.lease(scope: scope)?.runId == "run-b")
        try await store.releaseLease(scope: scope, runId: "run-b")
        #expect(try await store.lease(scope: scope) == nil)
    }

    @Test("many runs racing for one lease from separate stores: exactly one acquires", arguments: Kind.allCases)
    func leaseRaceHasOneWinner(_ kind: Kind) async throws {
        let location = try await Self.location(kind)
        defer { location.cleanup() }
        var stores: [any StateStore] = []
        for _ in 0..<6 { stores.append(try await location.open()) }
        let now = Date()
        let results = try await withThrowingTaskGroup(of: LeaseAcquisition.self) { group in
            for (index, store) in stores.enumerated() {
                group.addTask { try await store.acquireLease(scope: "race", holder: makeHolder("run-\(index)"), ttl: 60, now: now) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { $0 == .acquired }.count == 1)
    }

    // MARK: PostgreSQL's own

    @Test("an empty schema is migrated once, tables and version recorded; reopening does not migrate again")
    func migratesAnEmptySchema() async throws {
        let bed = try PostgresTestBed.require()
        let (url, schema) = try await bed.freshSchemaURL("mig")
        let store = try await PostgresStateStore.open(url: url)
        #expect(try await store.schemaVersion() == PostgresStateStore.latestSchemaVersion)
        let admin = try await PostgresConnection.connect(bed.primaryURL)
        let tables = try await admin.query("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = $1",
                                           [.text(schema)]).first?.decode(String.self, 0)
        #expect(tables == "drctl_schema_migrations,journal,leases,runs")
        _ = try await PostgresStateStore.open(url: url)
        #expect(try await admin.query("SELECT count(*) FROM \(schema).drctl_schema_migrations").first?.decode(Int.self, 0) == PostgresStateStore.latestSchemaVersion)
    }

    @Test("a schema migrated by a newer drctl is refused with .schema and left as it was")
    func newerSchemaIsRefused() async throws {
        let bed = try PostgresTestBed.require()
        let (url, schema) = try await bed.freshSchemaURL("newer")
        let admin = try await PostgresConnection.connect(bed.primaryURL)
        try await admin.query("CREATE TABLE \(schema).drctl_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        try await admin.query("INSERT INTO \(schema).drctl_schema_migrations (version) VALUES (99)")
        let error = await #expect(throws: StateStoreError.self) { _ = try await PostgresStateStore.open(url: url) }
        #expect(error?.kind == .schema)
        #expect(error?.description.contains("99") == true)
        #expect(try await admin.query("SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", [.text(schema)])
            .first?.decode(Int.self, 0) == 1)
    }

    @Test("a wrong password and a malformed URL are .open errors without the password")
    func openErrorsHideThePassword() async throws {
        let bed = try PostgresTestBed.require()
        let wrong = "nope-\(UInt32.random(in: 0...UInt32.max))"
        let error = await #expect(throws: StateStoreError.self) {
            _ = try await PostgresStateStore.open(url: bed.primaryURL.replacingOccurrences(of: bed.password, with: wrong))
        }
        #expect(error?.kind == .open)
        #expect(!String(describing: error).contains(wrong))
        let malformed = #expect(throws: StateStoreError.self) { _ = try PostgresStateStore(url: "postgres://drctl:\(wrong)@[::1/drctl") }
        #expect(malformed?.kind == .open)
        #expect(!String(describing: malformed).contains(wrong))
    }

    @Test("after the server ends the store's session, the next call reconnects")
    func reconnectsAfterConnectionLoss() async throws {
        let bed = try PostgresTestBed.require()
        let (url, _) = try await bed.freshSchemaURL("recon")
        let store = try await PostgresStateStore.open(url: url)
        try await store.createRun(makeRun("run-1"))
        let admin = try await PostgresConnection.connect(bed.primarySuperuser)
        let pid = try await store.backendProcessID()
        try await admin.query("SELECT pg_terminate_backend($1::int, 5000)", [.int(Int64(pid))])
        // The cut-off call may fail (its outcome is unknown); the one after it works.
        _ = try? await store.run("run-1")
        #expect(try await store.run("run-1")?.id == "run-1")
    }
}

// MARK: Helpers


private func makeHolder(_ runId: String) -> LeaseHolder {
    LeaseHolder(runId: runId, holder: "oncall", host: "host-\(runId)", pid: 4242, acquiredAt: .distantPast, expiresAt: .distantPast)
}

private func expectSameRun(_ read: RunRecord, _ written: RunRecord, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    var normalized = read
    normalized.createdAt = written.createdAt
    normalized.updatedAt = written.updatedAt
    #expect(normalized == written, sourceLocation: sourceLocation)
    #expect(abs(read.createdAt.timeIntervalSince(written.createdAt)) < 1e-6, sourceLocation: sourceLocation)
    #expect(abs(read.updatedAt.timeIntervalSince(written.updatedAt)) < 1e-6, sourceLocation: sourceLocation)
}
