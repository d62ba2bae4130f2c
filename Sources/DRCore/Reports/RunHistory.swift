import Foundation

/// RTO and RPO across runs, per calendar quarter (UTC): min/median/max, count, success rate, and
/// whether things are getting better. Pure: evidence in, figures out.
public struct RunHistory: Sendable, Equatable {
    /// Runs that recover something: plain runbook runs are not evidence of DR posture.
    public static let modes: Set<String> = ["failover", "switchover", "drill"]

    public struct Spread: Sendable, Equatable {
        public var min: Double
        public var median: Double
        public var max: Double
        public var count: Int

        public init?(_ values: [Double]) {
            guard !values.isEmpty else { return nil }
            let sorted = values.sorted()
            let middle = sorted.count / 2
            self.min = sorted[0]
            self.max = sorted[sorted.count - 1]
            self.median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
            self.count = sorted.count
        }
    }

    public struct Quarter: Sendable, Equatable {
        /// "2026-Q2".
        public var name: String
        public var runs: Int
        public var succeeded: Int
        public var drills: Int
        /// Measured RTO of the runs that succeeded (a failed run recovered nothing).
        public var rto: Spread?
        public var rtoOverBudget: Int
        /// Measured RPO where a drill measured it, else the expected data loss at preflight.
        public var rpo: Spread?
        public var rpoOverBudget: Int
        public var successRate: Double { runs == 0 ? 0 : Double(succeeded) / Double(runs) }
    }

    public enum Trend: String, Sendable, Equatable, CaseIterable {
        case improving, worsening, steady
        case insufficientData = "insufficient-data"

        /// Latest quarter with a figure against the one before it; lower is better.
        static func of(_ medians: [Double]) -> Trend {
            guard medians.count >= 2 else { return .insufficientData }
            let latest = medians[medians.count - 1], previous = medians[medians.count - 2]
            if abs(latest - previous) < 0.001 { return .steady }
            return latest < previous ? .improving : .worsening
        }
    }

    public var plan: String?
    public var since: Date?
    public var quarters: [Quarter]
    public var rtoTrend: Trend
    public var rpoTrend: Trend
    public var runIds: [String]

    /// - Parameters:
    ///   - plan: only runs of this DR plan (or runbook) name.
    ///   - since: only runs started at or after it.
    public init(evidence: [RunEvidence], plan: String? = nil, since: Date? = nil) {
        let selected = evidence.filter { run in
            Self.modes.contains(run.mode) && run.status.isFinal
                && (plan == nil || run.plan == plan || run.runbookName == plan)
                && (since.map { run.startedAt >= $0 } ?? true)
        }.sorted { $0.startedAt < $1.startedAt }
        var byQuarter: [String: [RunEvidence]] = [:]
        for run in selected { byQuarter[Self.quarter(of: run.startedAt), default: []].append(run) }
        quarters = byQuarter.keys.sorted().map { name in
            let runs = byQuarter[name]!
            let succeeded = runs.filter(\.succeeded)
            return Quarter(name: name, runs: runs.count, succeeded: succeeded.count, drills: runs.filter { $0.mode == "drill" }.count,
                           rto: Spread(succeeded.compactMap(\.rto.measuredSeconds)),
                           rtoOverBudget: runs.filter { $0.rto.verdict == .over }.count,
                           rpo: Spread(runs.compactMap(\.rpo.decisiveSeconds)),
                           rpoOverBudget: runs.filter { $0.rpo.verdict == .over }.count)
        }
        rtoTrend = Trend.of(quarters.compactMap { $0.rto?.median })
        rpoTrend = Trend.of(quarters.compactMap { $0.rpo?.median })
        self.plan = plan
        self.since = since
        runIds = selected.map(\.runId)
    }

    /// "2026-Q2" for a date in April–June 2026, in UTC.
    public static func quarter(of date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month], from: date)
        return "\(parts.year!)-Q\((parts.month! - 1) / 3 + 1)"
    }
}
