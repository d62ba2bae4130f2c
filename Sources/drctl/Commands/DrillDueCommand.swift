import ArgumentParser
import DRCore
import Foundation

/// `drctl drill due`: is a drill due? Compares the plan's drill schedule with the newest
/// successful drill in the store. Exit 0 when not due, 12 when due or overdue (for CI/alerting).
struct DrillDueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "due",
        abstract: "Whether the plan's scheduled drill is due: exit 0 when not, 12 when due or overdue.",
        discussion: "Due when the schedule's most recent occurrence (UTC) came after the last successful drill finished, or no drill ever succeeded.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateOptions
    @OptionGroup var planOption: PlanOption
    @Option(name: .long, help: "Evaluate at this instant instead of now (ISO 8601, e.g. 2026-04-01T05:59:00Z).")
    var now: String?

    struct Document: Encodable {
        let plan: String
        let schedule: String
        let due: Bool
        let reason: String
        let now: String
        let lastOccurrence: String?
        let nextOccurrence: String?
        let lastSuccessfulDrill: Drill?
        let lastDrill: Drill?
        let overdueSeconds: Double?

        struct Drill: Encodable {
            let run: String
            let status: String
            let finishedAt: String
        }
    }

    func validate() throws {
        if let now, DrillDueCommand.parseInstant(now) == nil {
            throw ValidationError("--now expects an ISO 8601 instant such as 2026-04-01T06:00:00Z, got '\(now)'")
        }
    }

    func run() async throws {
        try global.bootstrapLogging()
        let plan = try DRPlanLoader.load(path: planOption.path, sections: ProviderRegistration.sections)
        let schedule = try CronSchedule(parsing: plan.drillSchedule)
        let store = try state.openStore()
        let instant = now.flatMap(Self.parseInstant) ?? Date()
        // Drills that finished after --now did not exist yet at that instant.
        let drills = try await DrillHistory.latest(in: store, plan: plan.name, asOf: instant)
        let success = drills.lastSuccess
        let due = DrillDue(schedule: schedule, lastSuccessAt: success?.updatedAt, now: instant)

        let drill = { (record: RunRecord) in
            Document.Drill(run: record.id, status: record.status.rawValue, finishedAt: DrillDue.timestamp(record.updatedAt))
        }
        switch global.output {
        case .json:
            try JSONOutput.print(Document(plan: plan.name, schedule: schedule.expression, due: due.verdict == .due, reason: due.reason,
                                          now: DrillDue.timestamp(instant), lastOccurrence: due.lastOccurrence.map(DrillDue.timestamp),
                                          nextOccurrence: due.nextOccurrence.map(DrillDue.timestamp),
                                          lastSuccessfulDrill: success.map(drill), lastDrill: drills.last.map(drill),
                                          overdueSeconds: due.overdueBy.map { $0.rounded() }))
        case .text:
            let overdue = due.overdueBy.map { " (overdue by \(DurationText.format($0.rounded())))" } ?? ""
            print(due.verdict == .due ? "drill due for plan \(plan.name)\(overdue): \(due.reason)" : "no drill due for plan \(plan.name): \(due.reason)")
            print("  schedule: \(schedule.expression) (UTC)")
            if let next = due.nextOccurrence { print("  next scheduled: \(DrillDue.timestamp(next))") }
            if let last = drills.last, last.id != success?.id {
                print("  last drill: \(last.id) \(last.status.rawValue), \(DrillDue.timestamp(last.updatedAt))")
            }
        }
        if due.verdict == .due { throw RunEnded(status: .drillDue, message: nil) }
    }

    static func parseInstant(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
