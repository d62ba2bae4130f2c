import DRCore
import Foundation
import Testing

@Suite("SQLiteStateStore keeps runs, journals and leases durably in one shared file")
struct StateStoreTests {
    // MARK: Runs

    @Test("a created run reads back field for field")
    func createdRunReadsBack() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try SQLiteStateStore(path: dir.path("state.db"))
            let run = makeRun("run-1", inputs: ["region": .string("us-west-2"), "rpo": .duration(3600), "dry": .bool(true)])
            try await store.createRun(run)
            let read = try #require(try await store.run("run-1"))
            expectSameRun(read, run)
            #expect(try await store.run("run-2") == nil)
        }
    }

    @Test("creating a run whose id exists is a .conflict")
    func duplicateRunIsConflict() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try SQLiteStateStore(path: dir.path("state.db"))
            try await store.createRun(makeRun("run-1"))
            let error = await #expect(throws: StateStoreError.self) { try await store.createRun(makeRun("run-1")) }
            #expect(error?.kind == .conflict)
        }
    }

    @Test("runs are listed newest first, filtered by status and limited")
    func runsListNewestFirstFilteredAndLimited() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try SQLiteStateStore(path: dir.path("state.db"))
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
    }

    @Test("updateRun changes status and updatedAt; an unknown run is .notFound")
    func updateRunChangesStatus() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try SQLiteStateStore(path: dir.path("state.db"))
            try await store.createRun(makeRun("run-1"))
            let at = Date(timeIntervalSince1970: 1_760_000_123.456789)
            try await store.updateRun("run-1", status: .paused, at: at)
            let read = try #require(try await store.run("run-1"))
            #expect(read.status == .paused)
            #expect(abs(read.updatedAt.timeIntervalSince(at)) < 1e-6)
            let error = await #expect(throws: StateStoreError.self) { try await store.updateRun("nope", status: .failed, at: at) }
            #expect(error?.kind == .notFound)
        }
    }

    // MARK: Journal

    @Test("journal entries round-trip with details of every RunValue case, sub-second times and nil fields")
    func journalRoundTripsEveryValueCase() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try SQLiteStateStore(path: dir.path("state.db"))
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
                JournalEntry(runId: "run-1", at: Date(timeIntervalSince1970: 1_760_000_000.5), kind: .runStatus),
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
            #expect(journal[0].at < journal[1].at)
            #expect(try await store.journal(runId: "other").isEmpty)
        }
    }

    @Test("detail is stored as JSON with sorted keys")
    func detailIsSortedJSON() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.path("state.db")
            let store = try SQLiteStateStore(path: path)
            try await store.createRun(makeRun("run-1"))
            try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: .stepStatus, stepId: "s",
                                                detail: ["to": .string("running"), "from": .string("pending")]))
            let text = try await sqlite(path, "SELECT detail FROM journal")
            let from = try #require(text.range(of: "\"from\""))
            let to = try #require(text.range(of: "\"to\""))
            #expect(from.lowerBound < to.lowerBound, "\(text)")
        }
    }

    @Test("details written by another tool, with JSON escapes and spacing, read back; an unknown value shape is .corrupt")
    func detailsFromOtherWritersDecode() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.path("state.db")
            let store = try SQLiteStateStore(path: path)
            try await store.createRun(makeRun("run-1"))
            let detail = #"{ "s" : {"string":{"_0":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \n\t"}}, "d":{"double":{"_0":1e-3}}, "n":{"null":{}}, "i":{"int":{"_0":-7}} }"#
            try await sqlite(path, "INSERT INTO journal (run_id, seq, at, kind, detail) VALUES ('run-1', 1, 1760000000.5, 'run.note', '\(detail)')")
            let journal = try await store.journal(runId: "run-1")
            #expect(journal.first?.detail == ["s": .string("café 😀 \"q\" \\ / \n\t"), "d": .double(0.001), "n": .null, "i": .int(-7)])

            try await sqlite(path, #"INSERT INTO journal (run_id, seq, at, kind, detail) VALUES ('run-1', 2, 1760000001, 'run.note', '{"x":{"decimal":{"_0":"1.5"}}}')"#)
            let error = await #expect(throws: StateStoreError.self) { try await store.journal(runId: "run-1") }
            #expect(error?.kind == .corrupt)
            #expect(error?.description.contains("entry 2") == true, "\(String(describing: error))")
        }
    }

    @Test("sequence numbers are 1…n per run, strictly increasing, as returned and as read")
    func sequencesAreOneToN() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try SQLiteStateStore(path: dir.path("state.db"))
            try await store.createRun(makeRun("run-a"))
            try await store.createRun(makeRun("run-b"))
            var returned: [Int64] = []
            for index in 0..<30 {
                returned.append(try await store.append(JournalEntry(runId: "run-a", at: Date(), kind: .note, detail: ["i": .int(index)])))
                if index.isMultiple(of: 3) { try await store.append(JournalEntry(runId: "run-b", at: Date(), kind: .note)) }
            }
            #expect(returned == Array(1...30))
            let journal = try await store.journal(runId: "run-a")
            #expect(journal.map(\.sequence) == Array(1...30))
            #expect(journal.map { $0.detail["i"] } == (0..<30).map { RunValue.int($0) })
            #expect(try await store.journal(runId: "run-b").map(\.sequence) == Array(1...10))
        }
    }

    @Test("appending to a run that does not exist is .notFound")
    func appendToUnknownRunIsNotFound() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try SQLiteStateStore(path: dir.path("state.db"))
            let error = await #expect(throws: StateStoreError.self) {
                try await store.append(JournalEntry(runId: "ghost", at: Date(), kind: .note))
            }
            #expect(error?.kind == .notFound)
        }
    }

    @Test("runs, journal and leases survive closing and reopening the file")
    func dataSurvivesReopen() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.path("state.db")
            let now = Date()
            do {
                let store = try SQLiteStateStore(path: path)
                try await store.createRun(makeRun("run-1"))
                for index in 0..<3 { try await store.append(JournalEntry(runId: "run-1", at: now, kind: .note, detail: ["i": .int(index)])) }
                _ = try await store.acquireLease(scope: "failover", holder: makeHolder("run-1"), ttl: 60, now: now)
            }
            let reopened = try SQLiteStateStore(path: path)
            #expect(try await reopened.run("run-1")?.id == "run-1")
            #expect(try await reopened.journal(runId: "run-1").map { $0.detail["i"] } == [.int(0), .int(1), .int(2)])
            #expect(try await reopened.lease(scope: "failover")?.runId == "run-1")
            #expect(try await reopened.append(JournalEntry(runId: "run-1", at: now, kind: .note)) == 4)
        }
    }

    @Test("two stores on one file append concurrently without loss and see each other's entries")
    func twoStoresShareOneFile() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.path("state.db")
            let first = try SQLiteStateStore(path: path)
            let second = try SQLiteStateStore(path: path)
            try await first.createRun(makeRun("run-1"))
            let perStore = 60
            let sequences = try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in 0..<perStore {
                    for (name, store) in [("first", first), ("second", second)] {
                        group.addTask {
                            try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: .note,
                                                                detail: ["by": .string(name), "i": .int(index)]))
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
                #expect(journal.filter { $0.detail["by"] == .string("second") }.count == perStore)
            }
        }
    }

    // MARK: Leases

    @Test("a lease is acquired, held against other runs, renewed by its run, taken over after expiry and released")
    func leaseLifecycle() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try SQLiteStateStore(path: dir.path("state.db"))
            let t0 = Date(timeIntervalSince1970: 1_760_000_000)
            #expect(try await store.lease(scope: "failover") == nil)
            #expect(try await store.acquireLease(scope: "failover", holder: makeHolder("run-a"), ttl: 60, now: t0) == .acquired)

            let held = try await store.acquireLease(scope: "failover", holder: makeHolder("run-b"), ttl: 60, now: t0.addingTimeInterval(30))
            guard case .heldBy(let holder) = held else { Issue.record("run-b acquired a held lease: \(held)"); return }
            #expect(holder.runId == "run-a")
            #expect(holder.host == "host-run-a")
            #expect(abs(holder.expiresAt.timeIntervalSince(t0.addingTimeInterval(60))) < 1e-6)

            // A different scope is independent.
            #expect(try await store.acquireLease(scope: "drill", holder: makeHolder("run-b"), ttl: 60, now: t0) == .acquired)

            // Renewal by the holder extends the expiry and keeps the first acquisition time.
            #expect(try await store.acquireLease(scope: "failover", holder: makeHolder("run-a"), ttl: 60, now: t0.addingTimeInterval(50)) == .acquired)
            let renewed = try #require(try await store.lease(scope: "failover"))
            #expect(abs(renewed.expiresAt.timeIntervalSince(t0.addingTimeInterval(110))) < 1e-6)
            #expect(abs(renewed.acquiredAt.timeIntervalSince(t0)) < 1e-6)
            #expect(try await store.acquireLease(scope: "failover", holder: makeHolder("run-b"), ttl: 60, now: t0.addingTimeInterval(109)) != .acquired)

            // Expired: another run takes it over.
            #expect(try await store.acquireLease(scope: "failover", holder: makeHolder("run-b"), ttl: 60, now: t0.addingTimeInterval(111)) == .acquired)
            #expect(try await store.lease(scope: "failover")?.runId == "run-b")

            // Only the holder's release frees it.
            try await store.releaseLease(scope: "failover", runId: "run-a")
            #expect(try await store.lease(scope: "failover")?.runId == "run-b")
            try await store.releaseLease(scope: "failover", runId: "run-b")
            #expect(try await store.lease(scope: "failover") == nil)
            #expect(try await store.acquireLease(scope: "failover", holder: makeHolder("run-a"), ttl: 60, now: t0.addingTimeInterval(112)) == .acquired)
        }
    }

    // MARK: File, schema and failure modes

    @Test("the store runs in WAL mode and its file and new directories are private")
    func walModeAndPermissions() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.path("nested/drctl/state.db")
            let store = try SQLiteStateStore(path: path)
            try await store.createRun(makeRun("run-1"))
            #expect(try await sqlite(path, "PRAGMA journal_mode") == "wal")
            let fileMode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            let directoryMode = try FileManager.default.attributesOfItem(atPath: dir.path("nested/drctl"))[.posixPermissions] as? Int
            #expect(fileMode == 0o600)
            #expect(directoryMode == 0o700)
        }
    }

    @Test("a file at schema version 0 is migrated to the latest version")
    func versionZeroIsMigrated() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.path("state.db")
            try await sqlite(path, "CREATE TABLE unrelated (x); PRAGMA user_version = 0;")
            let store = try SQLiteStateStore(path: path)
            #expect(try await store.schemaVersion() == SQLiteStateStore.latestSchemaVersion)
            #expect(try await sqlite(path, "PRAGMA user_version") == String(SQLiteStateStore.latestSchemaVersion))
            #expect(try await sqlite(path, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") == "journal\nleases\nruns\nunrelated")
            try await store.createRun(makeRun("run-1"))
            #expect(try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: .note)) == 1)
            // Reopening a current file does not migrate again (it would fail: the tables exist).
            _ = try SQLiteStateStore(path: path)
        }
    }

    @Test("a file written by a newer schema version is refused with a .schema error and left as it was")
    func newerSchemaIsRefused() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.path("state.db")
            try await sqlite(path, "PRAGMA user_version = 99;")
            let error = #expect(throws: StateStoreError.self) { _ = try SQLiteStateStore(path: path) }
            #expect(error?.kind == .schema)
            #expect(error?.description.contains("99") == true)
            #expect(error?.description.contains(path) == true)
            #expect(try await sqlite(path, "PRAGMA user_version") == "99")
            #expect(try await sqlite(path, "SELECT count(*) FROM sqlite_master") == "0")
        }
    }

    @Test("a file of random bytes gives a .corrupt StateStoreError naming the file")
    func corruptFileIsAnError() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.path("state.db")
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<8192).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: StateStoreError.self) { _ = try SQLiteStateStore(path: path) }
            #expect(error?.kind == .corrupt)
            #expect(error?.description.contains(path) == true)
        }
    }

    @Test("defaultPath uses an absolute XDG_STATE_HOME, else ~/.local/state")
    func defaultPathFollowsXDG() {
        #expect(SQLiteStateStore.defaultPath(environment: ["XDG_STATE_HOME": "/var/state", "HOME": "/home/op"]) == "/var/state/drctl/state.db")
        #expect(SQLiteStateStore.defaultPath(environment: ["HOME": "/home/op"]) == "/home/op/.local/state/drctl/state.db")
        #expect(SQLiteStateStore.defaultPath(environment: ["XDG_STATE_HOME": "relative", "HOME": "/home/op"]) == "/home/op/.local/state/drctl/state.db")
    }

    // MARK: Another process

    @Test("while another process holds the write lock, append waits for it and then succeeds after its entry")
    func appendWaitsForAnotherProcess() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.path("state.db")
            let store = try SQLiteStateStore(path: path)
            try await store.createRun(makeRun("run-1"))
            let other = try await LockingProcess.start(path: path, runId: "run-1", holdSeconds: 1.5)
            let start = ContinuousClock.now
            let sequence = try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: .intent, stepId: "promote"))
            let waited = ContinuousClock.now - start
            #expect(try await other.finish() == 0)
            #expect(waited >= .milliseconds(1000), "append did not wait for the other writer: \(waited)")
            #expect(sequence == 2)
            let journal = try await store.journal(runId: "run-1")
            #expect(journal.map(\.kind) == [.note, .intent])
            #expect(journal.first?.detail == ["by": .string("python")])
        }
    }

    @Test("when the other process holds the lock longer than the busy timeout, append retries and succeeds after its entry")
    func appendRidesThroughALockHeldPastTheBusyTimeout() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.path("state.db")
            let store = try SQLiteStateStore(path: path, busyTimeout: .milliseconds(200))
            try await store.createRun(makeRun("run-1"))
            let other = try await LockingProcess.start(path: path, runId: "run-1", holdSeconds: 1.5)
            let sequence = try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: .note))
            #expect(try await other.finish() == 0)
            #expect(sequence == 2)
            #expect(try await store.journal(runId: "run-1").map(\.sequence) == [1, 2])
        }
    }

    @Test("when the lock is held past the outage tolerance too, append fails as .unavailable naming the write lock")
    func appendGivesUpAfterTheOutageTolerance() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.path("state.db")
            let store = try SQLiteStateStore(path: path, busyTimeout: .milliseconds(200), retry: StoreRetry(outageTolerance: 0.5))
            try await store.createRun(makeRun("run-1"))
            let other = try await LockingProcess.start(path: path, runId: "run-1", holdSeconds: 4)
            let error = await #expect(throws: StateStoreError.self) {
                try await store.append(JournalEntry(runId: "run-1", at: Date(), kind: .note))
            }
            #expect(try await other.finish() == 0)
            #expect(error?.kind == .unavailable)
            #expect(error?.description.contains("write lock") == true, "\(String(describing: error))")
            #expect(try await store.journal(runId: "run-1").map(\.sequence) == [1])
        }
    }

    @Test("opening a new file while another process holds its write lock (creating it) waits instead of failing")
    func openWaitsForAnotherProcessCreatingTheFile() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.path("state.db")
            // An empty file in rollback-journal mode under another process's write lock: what a
            // second process sees while the first creates the store. SQLite answers the WAL switch
            // with SQLITE_BUSY at once there, without its busy handler.
            let other = try await LockingProcess.start(path: path, runId: nil, holdSeconds: 1.5)
            // The store's initializer is synchronous and waits here: not on a task pool thread.
            let store = try await onOwnThread { try SQLiteStateStore(path: path) }
            #expect(try await other.finish() == 0)
            #expect(try await store.schemaVersion() == SQLiteStateStore.latestSchemaVersion)
        }
    }
}

// MARK: Helpers


private func makeHolder(_ runId: String) -> LeaseHolder {
    LeaseHolder(runId: runId, holder: "oncall", host: "host-\(runId)", pid: 4242, acquiredAt: .distantPast, expiresAt: .distantPast)
}

/// Equal except that times may differ by the storage precision (unix seconds as a Double).
private func expectSameRun(_ read: RunRecord, _ written: RunRecord, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    var normalized = read
    normalized.createdAt = written.createdAt
    normalized.updatedAt = written.updatedAt
    #expect(normalized == written, sourceLocation: sourceLocation)
    #expect(abs(read.createdAt.timeIntervalSince(written.createdAt)) < 1e-6, sourceLocation: sourceLocation)
    #expect(abs(read.updatedAt.timeIntervalSince(written.updatedAt)) < 1e-6, sourceLocation: sourceLocation)
}

/// Runs SQL through the sqlite3 command-line tool (a separate process) and returns its trimmed output.
@discardableResult
private func sqlite(_ path: String, _ sql: String) async throws -> String {
    let (status, output) = try await runTool(["sqlite3", path, sql])
    guard status == 0 else { throw ToolFailure(command: ["sqlite3", path, sql], output: output) }
    return output.trimmingCharacters(in: .whitespacesAndNewlines)
}
