import Foundation

/// Whether a drill is due: the schedule's most recent occurrence (at or before now) came after
/// the last successful drill finished, or no drill ever succeeded. Pure: the caller supplies the
/// last success and the time.
public struct DrillDue: Sendable, Equatable {
    public enum Verdict: String, Sendable, Codable {
        case notDue = "not-due"
        case due
    }

    public let verdict: Verdict
    public let schedule: String
    public let now: Date
    /// The most recent scheduled occurrence at or before `now`.
    public let lastOccurrence: Date?
    public let nextOccurrence: Date?
    /// When the newest successful drill finished.
    public let lastSuccessAt: Date?
    /// How long the drill has been due (since `lastOccurrence`), when due.
    public var overdueBy: TimeInterval? {
        guard verdict == .due, let lastOccurrence else { return nil }
        return now.timeIntervalSince(lastOccurrence)
    }

    public init(schedule: CronSchedule, lastSuccessAt: Date?, now: Date) {
        self.schedule = schedule.expression
        self.now = now
        self.lastSuccessAt = lastSuccessAt
        lastOccurrence = schedule.previous(before: now, inclusive: true)
        nextOccurrence = schedule.next(after: now)
        switch (lastSuccessAt, lastOccurrence) {
        case (nil, _):
            verdict = .due
        case (_, nil):
            verdict = .notDue
        case (let success?, let occurrence?):
            verdict = occurrence > success ? .due : .notDue
        }
    }

    /// One sentence saying why.
    public var reason: String {
        let format = { (date: Date) in DrillDue.timestamp(date) }
        switch (verdict, lastSuccessAt, lastOccurrence) {
        case (.due, nil, _):
            return "no successful drill on record; the schedule '\(schedule)' calls for one"
                + (lastOccurrence.map { " (last occurrence \(format($0)))" } ?? "")
        case (.due, let success?, let occurrence?):
            return "the drill scheduled for \(format(occurrence)) has not succeeded: the last successful drill finished \(format(success)), before it"
        case (.notDue, let success?, let occurrence?):
            return "the last successful drill finished \(format(success)), after the most recent scheduled occurrence \(format(occurrence))"
        default:
            return "the schedule '\(schedule)' has no occurrence before \(format(now))"
        }
    }

    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
