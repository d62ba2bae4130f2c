import DRCore
import Foundation

/// The end of a move (failover or switchover): measured RTO against the budget, the expected RPO,
/// who accepted how much data loss, what was fenced, each promoted secret, and every step that
/// did not do its part. It says "moved" and shows a measured RTO only when every promotion and
/// traffic step succeeded: a run that ended without a writable primary and traffic on it did not
/// recover, whatever else it did. Built from the run's journal and runbook alone, so `drctl
/// resume` prints (and journals) the same summary as an uninterrupted run; the RTO clock runs from
/// the move's start, across any crash.
enum MoveSummary {
    struct Acceptance: Encodable, Equatable {
        let by: String
        let acceptedSeconds: Double?
        let expectedSeconds: Double?
        let budgetSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case by, acceptedSeconds = "accepted_seconds", expectedSeconds = "expected_seconds", budgetSeconds = "budget_seconds"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(by, forKey: .by)
            try container.encode(acceptedSeconds, forKey: .acceptedSeconds)
            try container.encode(expectedSeconds, forKey: .expectedSeconds)
            try container.encode(budgetSeconds, forKey: .budgetSeconds)
        }
    }

    /// The `summary` line of `--output json` (keys in snake_case, like every line).
    struct Report: Encodable {
        var event = "summary"
        var time = MoveSummary.timestamp(Date())
        let run: String
        let status: String
        /// Why the run ended as it did (the engine's words: which step stopped it, and how to go on).
        let reason: String?
        /// Every promotion and traffic step succeeded: the service is writable in the target region.
        let moved: Bool
        let kind: String
        let plan: String?
        let from: String?
        let to: String?
        let rtoSeconds: Double?
        let rtoBudgetSeconds: Double?
        let expectedDataLossSeconds: Double?
        let rpoBudgetSeconds: Double?
        let dataLossAcceptance: Acceptance?
        let fencing: [String: String]
        /// Each promoted secret: where it stands after the move, and whether rotation needs setting up.
        let secrets: [String: String]
        /// Each step that should have run and did not succeed: its state and why.
        let notDone: [String: String]

        enum CodingKeys: String, CodingKey {
            case event, time, run, status, reason, moved, kind, plan, from, to, fencing, secrets, notDone = "not_done"
            case rtoSeconds = "rto_seconds", rtoBudgetSeconds = "rto_budget_seconds"
            case expectedDataLossSeconds = "expected_data_loss_seconds", rpoBudgetSeconds = "rpo_budget_seconds"
            case dataLossAcceptance = "data_loss_acceptance"
        }

        /// Every key always present, null when unknown: one schema for scripts.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(event, forKey: .event)
            try container.encode(time, forKey: .time)
            try container.encode(run, forKey: .run)
            try container.encode(status, forKey: .status)
            try container.encode(reason, forKey: .reason)
            try container.encode(moved, forKey: .moved)
            try container.encode(kind, forKey: .kind)
            try container.encode(plan, forKey: .plan)
            try container.encode(from, forKey: .from)
            try container.encode(to, forKey: .to)
            try container.encode(rtoSeconds, forKey: .rtoSeconds)
            try container.encode(rtoBudgetSeconds, forKey: .rtoBudgetSeconds)
            try container.encode(expectedDataLossSeconds, forKey: .expectedDataLossSeconds)
            try container.encode(rpoBudgetSeconds, forKey: .rpoBudgetSeconds)
            try container.encode(dataLossAcceptance, forKey: .dataLossAcceptance)
            try container.encode(fencing, forKey: .fencing)
            try container.encode(secrets, forKey: .secrets)
            try container.encode(notDone, forKey: .notDone)
        }
    }

    /// Actions whose success is the move itself (every provider's promotions and traffic steps):
    /// without them there is no recovery to measure.
    static var movingActions: Set<String> { Set(ProviderRegistration.summaryRoles.filter { $0.value != .fence }.keys) }
    /// Every provider's fences: each is reported confirmed or not.
    static var fenceActions: Set<String> { Set(ProviderRegistration.summaryRoles.filter { $0.value == .fence }.keys) }

    /// Builds the summary, journals it, and prints it (text, or one JSON line).
    /// `onlyIfMissing`: print it, but journal it only if the run has no summary yet (a resume of a
    /// move that finished and was killed around its summary).
    static func conclude(store: any StateStore, record: RunRecord, runbook: Runbook, format: OutputFormat,
                         onlyIfMissing: Bool = false) async throws {
        let entries = try await store.journal(runId: record.id)
        let summary = make(record: record, runbook: runbook, entries: entries)
        let journaled = entries.contains { $0.kind == .note && $0.detail["event"]?.stringValue == "summary" }
        if !(onlyIfMissing && journaled) {
            try await store.append(JournalEntry(runId: record.id, at: Date(), kind: .note, detail: [
                "event": .string("summary"), "status": .string(summary.status), "moved": .bool(summary.moved),
                "rto": summary.rtoSeconds.map { .duration($0) } ?? .null,
                "expected_data_loss": summary.expectedDataLossSeconds.map { .duration($0) } ?? .null,
            ]))
        }
        if format == .json {
            try JSONOutput.line(summary)
        } else {
            OutputLock.shared.write(text(summary))
        }
    }

    static func make(record: RunRecord, runbook: Runbook, entries: [JournalEntry]) -> Report {
        let notes = entries.filter { $0.kind == .note }
        let preflight = notes.first { $0.detail["event"]?.stringValue == "preflight" }?.detail ?? [:]
        let acceptance = notes.last { $0.detail["event"]?.stringValue == "data-loss-accepted" }.map { note in
            Acceptance(by: note.detail["by"]?.stringValue ?? "unknown", acceptedSeconds: note.detail["accepted"]?.secondsValue,
                       expectedSeconds: note.detail["expected"]?.secondsValue, budgetSeconds: note.detail["budget"]?.secondsValue)
        }
        let statuses = entries.filter { $0.kind == .runStatus }
        let started = statuses.first?.at
        let ended = statuses.last.flatMap { entry in
            (entry.detail["to"]?.stringValue).flatMap(RunStatus.init(rawValue:)).map { $0.isFinal || $0 == .unknown } == true ? entry.at : nil
        }
        let replay = JournalReplay(entries: entries)
        // Steps are picked by their action, so a plan's own runbook (`runbooks:`) is summarised too.
        func steps(of actions: Set<String>) -> [(String, JournalReplay.StepRecord)] {
            runbook.steps.filter { actions.contains($0.call.action) }.map { ($0.id, replay.steps[$0.id] ?? JournalReplay.StepRecord()) }
        }
        var fencing: [String: String] = [:]
        for (id, step) in steps(of: fenceActions) {
            let confirmed = step.outputs["confirmed"]?.boolValue
            // AWS's fence says why in `reason`, PostgreSQL's in `degraded` (both set `degraded`).
            let why = step.outputs["reason"]?.description ?? step.outputs["degraded"]?.description
            fencing[id] = confirmed == true ? "confirmed"
                : (step.state == .succeeded ? "fencing NOT confirmed: \(why ?? "region unreachable")"
                                            : "NOT fenced (\(step.state.rawValue)\(step.toleratedBy.map { ", proceeding unfenced accepted by \($0)" } ?? "")"
                                              + "\(step.error.map { ": \($0)" } ?? ""))")
        }
        var secrets: [String: String] = [:]
        for (id, step) in steps(of: ["aws.secretsmanager.promote-replica"]) {
            switch step.state {
            case .succeeded where step.outputs["rotation_enabled"]?.boolValue == true:
                secrets[id] = "standalone; rotation on"
            case .succeeded:
                secrets[id] = "standalone; rotation is off there: set it up on the promoted secret"
            case .pending, .skipped:
                secrets[id] = "not promoted (\(step.state.rawValue)): still a replica, readable but not changeable there"
            default:
                // It may have been promoted before the step failed: only DescribeSecret can say.
                secrets[id] = "not confirmed standalone (\(step.state.rawValue)\(step.error.map { ": \($0)" } ?? "")): check it with DescribeSecret"
            }
        }
        // A step skipped by its own `when` did what it should; one skipped because something it
        // needed failed did not.
        var notDone: [String: String] = [:]
        for step in runbook.steps where fencing[step.id] == nil && secrets[step.id] == nil {
            let record = replay.steps[step.id] ?? JournalReplay.StepRecord()
            guard record.state != .succeeded, !(record.state == .skipped && record.skipCause == .condition) else { continue }
            let tolerated = record.toleratedBy.map { ", tolerated by \($0)" } ?? ""
            notDone[step.id] = record.state.rawValue + tolerated + (record.error.map { ": \($0)" } ?? "")
        }
        let moved = runbook.steps.filter { movingActions.contains($0.call.action) }.allSatisfy { replay.steps[$0.id]?.state == .succeeded }
        var status = (replay.runStatus ?? record.status).rawValue
        if !moved && status == RunStatus.succeeded.rawValue { status = RunStatus.failed.rawValue }   // never "succeeded" without a writable primary and traffic on it
        let reason = statuses.last?.detail["reason"]?.stringValue
        return Report(run: record.id, status: status, reason: status == RunStatus.succeeded.rawValue ? nil : reason, moved: moved,
                      kind: record.mode,
                      plan: preflight["plan"]?.stringValue, from: preflight["from"]?.stringValue, to: preflight["to"]?.stringValue,
                      rtoSeconds: moved ? started.flatMap { start in ended.map { $0.timeIntervalSince(start) } } : nil,
                      rtoBudgetSeconds: preflight["rto_budget"]?.secondsValue ?? runbook.budgets.rto,
                      expectedDataLossSeconds: preflight["expected_data_loss"]?.secondsValue,
                      rpoBudgetSeconds: preflight["rpo_budget"]?.secondsValue ?? runbook.budgets.rpo,
                      dataLossAcceptance: acceptance, fencing: fencing, secrets: secrets, notDone: notDone)
    }

    static func text(_ summary: Report) -> String {
        var lines = ["", "Summary of \(summary.run): \(summary.status)"]
        if let why = summary.reason, summary.status != RunStatus.degraded.rawValue { lines.append("  \(why)") }
        if let rto = summary.rtoSeconds {
            let over = rto > (summary.rtoBudgetSeconds ?? .infinity) ? " — OVER BUDGET" : ""
            lines.append("  RTO measured: \(DurationText.format(rto)) of a \(DurationText.format(summary.rtoBudgetSeconds ?? 0)) budget\(over)")
        } else if !summary.moved {
            lines.append("  NOT moved: promotion or traffic did not complete (see below); no RTO to measure")
        }
        let loss = summary.expectedDataLossSeconds.map(DurationText.format) ?? "unknown"
        lines.append("  RPO expected: \(loss) of a \(DurationText.format(summary.rpoBudgetSeconds ?? 0)) budget")
        if let accepted = summary.dataLossAcceptance {
            let amount = accepted.acceptedSeconds.map { "up to \(DurationText.format($0))" } ?? "an unknown amount"
            let expected = accepted.expectedSeconds.map { "expected \(DurationText.format($0))" } ?? "expected loss unknown"
            lines.append("  data loss accepted: \(amount) by \(accepted.by) (\(expected), --accept-data-loss)")
        }
        for (step, state) in summary.fencing.sorted(by: { $0.key < $1.key }) { lines.append("  \(step): \(state)") }
        for (step, state) in summary.secrets.sorted(by: { $0.key < $1.key }) { lines.append("  \(step): \(state)") }
        for (step, state) in summary.notDone.sorted(by: { $0.key < $1.key }) { lines.append("  \(step): NOT done (\(state))") }
        return lines.joined(separator: "\n") + "\n"
    }

    static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
