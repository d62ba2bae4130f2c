import DRCore
import Foundation

/// What a failover or switchover prints besides the engine's events. With `--output json` every
/// line of stdout is one JSON object with `event` and `time`: `preflight` first, then `plan`
/// (dry run) or the run's events, and `summary` last — or a single `nothing_to_do`. The schema is
/// in docs/failover.md (JSON Lines).
enum MoveOutput {
    struct Check: Encodable {
        let name: String
        let ok: Bool
        let blocking: Bool
        let detail: String
    }

    struct PreflightLine: Encodable {
        var event = "preflight"
        var time = MoveSummary.timestamp(Date())
        let plan: String
        let kind: String
        let from: String
        let to: String
        let checks: [Check]
        let expectedDataLossSeconds: Double?
        let unknownLossReasons: [String]

        enum CodingKeys: String, CodingKey {
            case event, time, plan, kind, from, to, checks
            case expectedDataLossSeconds = "expected_data_loss_seconds", unknownLossReasons = "unknown_loss_reasons"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(event, forKey: .event)
            try container.encode(time, forKey: .time)
            try container.encode(plan, forKey: .plan)
            try container.encode(kind, forKey: .kind)
            try container.encode(from, forKey: .from)
            try container.encode(to, forKey: .to)
            try container.encode(checks, forKey: .checks)
            try container.encode(expectedDataLossSeconds, forKey: .expectedDataLossSeconds)
            try container.encode(unknownLossReasons, forKey: .unknownLossReasons)
        }
    }

    struct DryRunLine: Encodable {
        var event = "plan"
        var time = MoveSummary.timestamp(Date())
        /// As `drctl plan --output json` shows it.
        let runbook: PlanCommand.Plan
    }

    struct NothingToDoLine: Encodable {
        var event = "nothing_to_do"
        var time = MoveSummary.timestamp(Date())
        let plan: String
        let to: String
        let run: String
        let status: String
        let reason: String
    }

    static func preflight(_ report: MovePreflight.Report, plan: DRPlan, kind: Move.Kind, from: String, to: String,
                          format: OutputFormat) {
        guard format == .json else {
            print("Preflight")
            for check in report.checks {
                let mark = check.ok ? "ok  " : (check.blocking ? "FAIL" : "warn")
                print("  [\(mark)] \(check.name): \(check.detail)")
            }
            if let loss = report.expectedDataLoss {
                print("  expected data loss: \(DurationText.format(loss))")
            } else {
                print("  expected data loss: unknown (\(report.unknownLossReasons.joined(separator: "; ")))")
            }
            return
        }
        try? JSONOutput.line(PreflightLine(
            plan: plan.name, kind: kind.rawValue, from: from, to: to,
            checks: report.checks.map { Check(name: $0.name, ok: $0.ok, blocking: $0.blocking, detail: $0.detail) },
            expectedDataLossSeconds: report.expectedDataLoss, unknownLossReasons: report.unknownLossReasons))
    }

    static func dryRun(_ planned: PlanCommand.Plan, format: OutputFormat) throws {
        guard format == .json else {
            PlanCommand.render(planned)
            print("\ndry run: nothing was changed")
            return
        }
        try JSONOutput.line(DryRunLine(runbook: planned))
    }

    /// The plan's last finished move already went to `to`: said once, exit 0, no run.
    static func nothingToDo(plan: DRPlan, to: String, last: RunRecord, format: OutputFormat) throws {
        let reason = "run \(last.id) (\(last.mode), \(last.status.rawValue) at \(MoveSummary.timestamp(last.updatedAt))) moved plan \(plan.name) to \(to)"
        guard format == .json else {
            print("nothing to do: plan \(plan.name) is already active in \(to) — \(reason); no new run was started")
            return
        }
        try JSONOutput.line(NothingToDoLine(plan: plan.name, to: to, run: last.id, status: last.status.rawValue, reason: reason))
    }
}
