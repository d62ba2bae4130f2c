#if DEBUG
import DRCore
import Foundation
import Testing

/// The crash hook of test builds: which append is the N-th, what "before" and "after" mean, and
/// that a misconfigured sweep is refused instead of silently never crashing. (The kill itself is
/// exercised end to end by the CLI's crash-point sweeps.)
@Suite("CrashPointStore acts at the N-th journal append")
struct CrashPointStoreTests {
    /// Appends one entry, a batch of three, then two entries, with a hook at `point` that records
    /// how many entries the journal held when it ran (read with the sqlite3 CLI, not the store).
    func journalSizeSeenByHook(at point: Int, _ moment: String) async throws -> (seen: String, count: String) {
        try await TemporaryDirectory.with { dir in
            let database = dir.path("state.db"), seen = dir.path("seen"), countFile = dir.path("count")
            let plan = try #require(try CrashPointStore.Plan(environment: [
                "DRCTL_CRASH_AT": String(point), "DRCTL_CRASH_WHEN": moment, "DRCTL_CRASH_ACTION": "hook",
                "DRCTL_CRASH_HOOK": "echo $DRCTL_CRASH_POINT $(sqlite3 \(database) 'SELECT count(*) FROM journal') > \(seen)",
                "DRCTL_CRASH_COUNT_FILE": countFile,
            ]))
            let store = CrashPointStore(wrapping: try SQLiteStateStore(path: database), plan: plan)
            try await store.createRun(makeRun("run-1"))
            func entry(_ note: String) -> JournalEntry {
                JournalEntry(runId: "run-1", at: Date(), kind: .note, detail: ["event": .string(note)])
            }
            try await store.append(entry("one"))
            try await store.append(contentsOf: [entry("two-a"), entry("two-b"), entry("two-c")])
            try await store.append(entry("three"))
            try await store.append(entry("four"))
            let read = { (path: String) in ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
            return (read(seen), read(countFile))
        }
    }

    @Test("before the N-th append the hook sees the entries of the appends before it; after, its own too; a batch is one point")
    func hookRunsBeforeOrAfterTheChosenAppend() async throws {
        #expect(try await journalSizeSeenByHook(at: 1, "before") == ("1 0", "4"))
        #expect(try await journalSizeSeenByHook(at: 2, "before") == ("2 1", "4"))
        #expect(try await journalSizeSeenByHook(at: 2, "after") == ("2 4", "4"))
        #expect(try await journalSizeSeenByHook(at: 3, "after") == ("3 5", "4"))
        #expect(try await journalSizeSeenByHook(at: 4, "after") == ("4 6", "4"))
        // A point past the run's last append never fires.
        #expect(try await journalSizeSeenByHook(at: 5, "before") == ("", "4"))
    }

    @Test("no variable: no wrapper; a malformed one: an error naming it")
    func configurationIsCheckedNotIgnored() throws {
        #expect(try CrashPointStore.Plan(environment: [:]) == nil)
        #expect(try CrashPointStore.Plan(environment: ["DRCTL_CRASH_AT": ""]) == nil)
        let plan = try #require(try CrashPointStore.Plan(environment: ["DRCTL_CRASH_AT": "7"]))
        #expect(plan.point == 7 && plan.moment == .before && plan.action == .kill)
        for (environment, named) in [
            (["DRCTL_CRASH_AT": "0"], "DRCTL_CRASH_AT='0'"),
            (["DRCTL_CRASH_AT": "seven"], "DRCTL_CRASH_AT='seven'"),
            (["DRCTL_CRASH_AT": "3", "DRCTL_CRASH_WHEN": "during"], "DRCTL_CRASH_WHEN='during'"),
            (["DRCTL_CRASH_AT": "3", "DRCTL_CRASH_ACTION": "reboot"], "DRCTL_CRASH_ACTION='reboot'"),
            (["DRCTL_CRASH_AT": "3", "DRCTL_CRASH_ACTION": "hook"], "DRCTL_CRASH_HOOK=''"),
        ] {
            let error = #expect(throws: CrashPointConfigurationError.self) { try CrashPointStore.Plan(environment: environment) }
            #expect(error?.message.hasPrefix(named) == true, "\(String(describing: error))")
        }
    }
}
#endif
