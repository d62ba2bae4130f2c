/// The gate a move passes after its preflight and before anything changes: a blocking check that
/// failed stops it; a failover whose expected data loss is over the RPO budget — or unknown — is
/// refused unless the operator accepted at least that much loss (`--accept-data-loss`, journaled);
/// a switchover, which waits for every replica to catch up, needs the lag to be known at all.
public enum RPOGate {
    public enum Verdict: Sendable, Equatable {
        /// Within budget: go on.
        case proceed
        /// Over budget or unknown, and accepted: go on, and journal this note.
        case accepted([String: RunValue])
        /// A blocking preflight check failed (the run failed before it started).
        case blocked(String)
        /// Refused by the budget (exit 4).
        case refused(String)
    }

    public static func judge(_ report: MovePreflight.Report, kind: Move.Kind, budget: Double, acceptedLoss: Double?, by operatorName: String) -> Verdict {
        if !report.blockers.isEmpty {
            return .blocked("preflight failed:\n  " + report.blockers.joined(separator: "\n  "))
        }
        let expected = report.expectedDataLoss
        if kind == .switchover {
            return expected == nil
                ? .refused("switchover needs the replicas' lag to be known (it waits for them to catch up); use failover")
                : .proceed
        }
        if let expected, expected <= budget { return .proceed }
        let shown = expected.map { "expected data loss \(DurationText.format($0))" }
            ?? "expected data loss unknown (\(report.unknownLossReasons.joined(separator: "; ")))"
        guard let accepted = acceptedLoss else {
            return .refused("""
                refusing: \(shown) is over the RPO budget of \(DurationText.format(budget)). \
                Pass --accept-data-loss \(DurationText.format((expected ?? budget).rounded(.up) + 60)) (or more) to fail over anyway.
                """)
        }
        if let expected, accepted < expected {
            return .refused("refusing: \(shown), more than the \(DurationText.format(accepted)) accepted")
        }
        return .accepted(["event": .string("data-loss-accepted"), "accepted": .duration(accepted), "expected": expected.map { .duration($0) } ?? .null,
                          "budget": .duration(budget), "by": .string(operatorName)])
    }
}
