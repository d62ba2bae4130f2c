import DRCore
import Foundation
import Testing

/// `drctl drill due` against a real SQLite store holding run records inserted by the test, at
/// instants given with `--now`, across quarter and year boundaries.
@Suite struct DrillDueCommandTests {
    struct Workspace {
        let home: TemporaryHome
        var statePath: String { home.url.appendingPathComponent("state.db").path }
        var planPath: String { home.url.appendingPathComponent("drplan.yaml").path }

        init(schedule: String? = nil) throws {
            home = try TemporaryHome()
            try home.write("drplan.yaml", """
            name: duetest
            regions: { primary: us-east-1, dr: us-west-2 }
            budgets: { rpo: 1h, rto: 4h }
            \(schedule.map { "drills: { schedule: \"\($0)\" }" } ?? "")
            """)
        }

        /// A finished run record: started `minutes` before `finished`.
        func insert(_ id: String, mode: String = "drill", status: RunStatus, finished: String, plan: String = "duetest",
                    lockScope: String? = nil) async throws {
            let store = try SQLiteStateStore(path: statePath)
            let end = ISO8601DateFormatter().date(from: finished)!
            try await store.createRun(RunRecord(id: id, runbookName: "drill-\(plan)", runbookPath: "/dev/null", runbookDigest: "0",
                                                runbookText: "", inputs: [:], status: status, createdAt: end.addingTimeInterval(-40 * 60),
                                                updatedAt: end, startedBy: "ci", host: "runner", mode: mode,
                                                lockScope: lockScope ?? "plan:\(plan)"))
        }

        func due(at now: String, json: Bool = false) throws -> DrctlProcess.Result {
            try DrctlProcess.run(["drill", "due", "--plan", planPath, "--state", statePath, "--now", now] + (json ? ["--output", "json"] : []),
                                 home: home.url)
        }

        func dueJSON(at now: String) throws -> (status: Int32, document: [String: Any]) {
            let result = try due(at: now, json: true)
            let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            return (result.status, try #require(document, "\(result.stdout)\(result.stderr)"))
        }
    }

    @Test func withoutAnySuccessfulDrillADrillIsDue() async throws {
        let workspace = try Workspace()
        let result = try workspace.due(at: "2026-05-10T12:00:00Z")
        #expect(result.status == 12, "\(result.stderr)")
        #expect(result.stdout.contains("no successful drill on record"))
        #expect(result.stdout.contains("2026-04-01T06:00:00Z"))
    }

    @Test func aDrillThisQuarterIsEnoughUntilTheNextQuarterBegins() async throws {
        let workspace = try Workspace()
        try await workspace.insert("run-q1", status: .succeeded, finished: "2026-01-01T06:50:00Z")
        #expect(try workspace.due(at: "2026-02-14T00:00:00Z").status == 0)
        #expect(try workspace.due(at: "2026-04-01T05:59:59Z").status == 0)
        let atOccurrence = try workspace.dueJSON(at: "2026-04-01T06:00:00Z")
        #expect(atOccurrence.status == 12)
        #expect(atOccurrence.document["lastOccurrence"] as? String == "2026-04-01T06:00:00Z")
        #expect(atOccurrence.document["overdueSeconds"] as? Double == 0)
        let later = try workspace.dueJSON(at: "2026-04-03T06:00:00Z")
        #expect(later.status == 12)
        #expect(later.document["overdueSeconds"] as? Double == Double(2 * 86400))
        #expect((later.document["lastSuccessfulDrill"] as? [String: Any])?["run"] as? String == "run-q1")
        #expect(later.document["nextOccurrence"] as? String == "2026-07-01T06:00:00Z")
    }

    @Test func theFourthQuartersDrillCarriesOverNewYearsEveButNotNewYearsMorning() async throws {
        let workspace = try Workspace()
        try await workspace.insert("run-q4", status: .succeeded, finished: "2026-10-01T07:15:00Z")
        let eve = try workspace.dueJSON(at: "2026-12-31T23:59:59Z")
        #expect(eve.status == 0)
        #expect(eve.document["due"] as? Bool == false)
        #expect(eve.document["nextOccurrence"] as? String == "2027-01-01T06:00:00Z")
        let morning = try workspace.dueJSON(at: "2027-01-02T00:00:00Z")
        #expect(morning.status == 12)
        #expect(morning.document["lastOccurrence"] as? String == "2027-01-01T06:00:00Z")
        #expect(morning.document["overdueSeconds"] as? Double == Double(18 * 3600))

        try await workspace.insert("run-q1", status: .succeeded, finished: "2027-01-01T06:40:00Z")
        let afterDrill = try workspace.due(at: "2027-01-02T00:00:00Z")
        #expect(afterDrill.status == 0, "\(afterDrill.stdout)")
        #expect(afterDrill.stdout.contains("run-q1") == false)   // text names times, not ids, in the reason
        #expect(afterDrill.stdout.contains("2027-01-01T06:40:00Z"))
    }

    @Test func failedDrillsOtherPlansAndOtherRunsDoNotCount() async throws {
        let workspace = try Workspace()
        try await workspace.insert("run-old", status: .succeeded, finished: "2026-01-01T07:00:00Z")
        try await workspace.insert("run-failed", status: .failed, finished: "2026-04-01T06:30:00Z")
        try await workspace.insert("run-other-plan", status: .succeeded, finished: "2026-04-01T06:35:00Z", plan: "another")
        try await workspace.insert("run-failover", mode: "failover", status: .succeeded, finished: "2026-04-01T06:36:00Z")
        let result = try workspace.dueJSON(at: "2026-04-02T00:00:00Z")
        #expect(result.status == 12)
        #expect((result.document["lastSuccessfulDrill"] as? [String: Any])?["run"] as? String == "run-old")
        #expect((result.document["lastDrill"] as? [String: Any])?["status"] as? String == "failed")
        // The same store, a drill of this plan found by its drill lock scope:
        try await workspace.insert("run-q2", status: .succeeded, finished: "2026-04-01T08:00:00Z", lockScope: "drill:duetest")
        #expect(try workspace.due(at: "2026-04-02T00:00:00Z").status == 0)
        // …which did not exist yet at an earlier --now.
        #expect(try workspace.due(at: "2026-04-01T07:00:00Z").status == 12)
    }

    /// Issue 16, defect 5: at `--now T` the store is read as it stood at T — a newer drill that
    /// finished after T neither hides an older success nor shows as the "last drill".
    @Test func drillsThatFinishedAfterNowAreNotYetOnRecord() async throws {
        let workspace = try Workspace()
        try await workspace.insert("run-q2", status: .succeeded, finished: "2026-04-01T07:00:00Z")
        try await workspace.insert("run-q3-failed", status: .failed, finished: "2026-07-01T06:30:00Z")
        try await workspace.insert("run-q3", status: .succeeded, finished: "2026-07-01T07:00:00Z")
        let may = try workspace.dueJSON(at: "2026-05-01T00:00:00Z")
        #expect(may.status == 0, "\(may.document)")
        #expect((may.document["lastSuccessfulDrill"] as? [String: Any])?["run"] as? String == "run-q2")
        #expect((may.document["lastDrill"] as? [String: Any])?["run"] as? String == "run-q2")
        let text = try workspace.due(at: "2026-05-01T00:00:00Z")
        #expect(text.status == 0)
        #expect(!text.stdout.contains("last drill:") && !text.stdout.contains("2026-07-01T06:30") && !text.stdout.contains("2026-07-01T07:00"),
                "\(text.stdout)")
        // Between the failed and the successful July drill: the failure is the last drill, and the drill is due.
        let between = try workspace.dueJSON(at: "2026-07-01T06:45:00Z")
        #expect(between.status == 12)
        #expect((between.document["lastDrill"] as? [String: Any])?["run"] as? String == "run-q3-failed")
        #expect((between.document["lastSuccessfulDrill"] as? [String: Any])?["run"] as? String == "run-q2")
        // A finish exactly at --now counts.
        #expect(try workspace.due(at: "2026-07-01T07:00:00Z").status == 0)
    }

    @Test func aWeeklyScheduleFromThePlanIsUsed() async throws {
        let workspace = try Workspace(schedule: "30 2 * * SUN")
        try await workspace.insert("run-w1", status: .succeeded, finished: "2026-12-27T03:00:00Z")   // a Sunday
        #expect(try workspace.due(at: "2027-01-03T02:29:00Z").status == 0)
        #expect(try workspace.due(at: "2027-01-03T02:30:00Z").status == 12)   // the next Sunday, across the year
    }
}
