import DRCore
import Foundation
import Testing

@Suite("Drill schedules: EventBridge conversion and when a drill is due")
struct DrillScheduleTests {
    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test("cron converts to EventBridge's six fields with '?' and weekday names", arguments: [
        ("0 6 1 1,4,7,10 *", "cron(0 6 1 1,4,7,10 ? *)"),
        ("*/15 9-17 * * MON-FRI", "cron(0,15,30,45 9-17 ? * MON-FRI *)"),
        ("30 2 * * 0,6", "cron(30 2 ? * SUN,SAT *)"),
        ("0 0 29 2 *", "cron(0 0 29 2 ? *)"),
        ("@hourly", "cron(0 * * * ? *)"),
    ])
    func eventBridge(cron: String, expected: String) throws {
        #expect(try CronSchedule(parsing: cron).eventBridgeExpression() == expected)
    }

    @Test("Vixie's either-day rule has no EventBridge form")
    func eitherDayIsRefused() throws {
        #expect(throws: ScheduleConversionError.self) { try CronSchedule(parsing: "0 6 1 * MON").eventBridgeExpression() }
        #expect(throws: ScheduleConversionError.self) { try CronSchedule(parsing: "0 6 1 * */2").eventBridgeExpression() }
    }

    @Test("due: never succeeded, succeeded before the last occurrence, after it")
    func dueVerdicts() throws {
        let quarterly = try CronSchedule(parsing: "0 6 1 1,4,7,10 *")
        let never = DrillDue(schedule: quarterly, lastSuccessAt: nil, now: Self.at("2026-05-01T00:00:00Z"))
        #expect(never.verdict == .due)
        let stale = DrillDue(schedule: quarterly, lastSuccessAt: Self.at("2026-03-31T23:00:00Z"), now: Self.at("2026-04-01T06:00:00Z"))
        #expect(stale.verdict == .due)
        #expect(stale.overdueBy == 0)
        let fresh = DrillDue(schedule: quarterly, lastSuccessAt: Self.at("2026-04-01T06:30:00Z"), now: Self.at("2026-06-30T23:59:00Z"))
        #expect(fresh.verdict == .notDue)
        #expect(fresh.nextOccurrence == Self.at("2026-07-01T06:00:00Z"))
        #expect(fresh.overdueBy == nil)
    }

    @Test("budget states: ok below half, warning to the budget, breach above or unknown")
    func budgetStates() {
        #expect(RPOBudgetState(rpoSeconds: 1799, budgetSeconds: 3600) == .ok)
        #expect(RPOBudgetState(rpoSeconds: 1800, budgetSeconds: 3600) == .warning)
        #expect(RPOBudgetState(rpoSeconds: 3600, budgetSeconds: 3600) == .warning)
        #expect(RPOBudgetState(rpoSeconds: 3601, budgetSeconds: 3600) == .breach)
        #expect(RPOBudgetState(rpoSeconds: nil, budgetSeconds: 3600) == .breach)
        let resource = ProtectedResourcePosture(name: "db", type: "database", recoveryPoints: [
            RecoveryPointAge(kind: .replicaLag, source: "r", seconds: 7200, detail: ""),
            RecoveryPointAge(kind: .snapshotCopy, source: "s", seconds: 600, detail: ""),
        ])
        #expect(resource.rpoSeconds == 600)   // the newest restorable point wins
        #expect(resource.state(budgetSeconds: 3600) == .ok)
    }
}
