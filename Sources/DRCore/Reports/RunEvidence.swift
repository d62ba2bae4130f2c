import Foundation

/// Everything an evidence report says about one run (failover, switchover, drill or plain runbook
/// run), rebuilt from the run record and its journal: who, when, each step, approvals,
/// compensations, and the measured RTO and RPO against the runbook's budgets. `drctl show` and
/// `drctl report` read this one model. Pure: record, journal and (optionally) runbook in.
///
/// Only named journal fields are copied, never whole `detail` maps, and every free text goes
/// through `SecretRedactor`: the journal holds no secrets, and a report must not become the place
/// where one leaks if that ever changes.
public struct RunEvidence: Sendable, Equatable {
    public var runId: String
    public var runbookName: String
    public var runbookPath: String
    public var runbookDigest: String
    /// "run", "failover", "switchover", "drill".
    public var mode: String
    public var startedBy: String
    public var host: String
    /// The DR plan of a failover/switchover/drill (from its preflight note or lock scope).
    public var plan: String?
    public var fromRegion: String?
    public var toRegion: String?
    /// The first `running` transition (the RTO clock start), else the record's creation.
    public var startedAt: Date
    /// The final status transition; nil while the run has not finished.
    public var endedAt: Date?
    public var status: RunStatus
    public var rto: RTOEvidence
    public var rpo: RPOEvidence
    public var dataLossAcceptance: DataLossAcceptance?
    public var preflightChecks: [CheckEvidence]
    /// Drill validations (run.note "validation").
    public var validations: [CheckEvidence]
    public var steps: [StepEvidence]
    public var approvals: [ApprovalEvidence]
    public var compensations: [CompensationEvidence]
    public var transitions: [RunTransition]
    public var inputs: [String: String]
    public var journalEntries: Int

    public var succeeded: Bool { status == .succeeded }
}

/// Where a measurement stands against its budget.
public enum BudgetVerdict: String, Sendable, Equatable, Codable, CaseIterable {
    case within
    case over
    /// No measurement (the run has not finished, or nothing measured the RPO).
    case unknown
    /// The runbook sets no budget for it.
    case noBudget = "no-budget"

    public static func judge(_ measured: Double?, budget: Double?) -> BudgetVerdict {
        guard let budget else { return .noBudget }
        guard let measured else { return .unknown }
        return measured <= budget ? .within : .over
    }
}

/// RTO: from the run's first `running` transition to its final status (DESIGN.md "Budgets").
public struct RTOEvidence: Sendable, Equatable {
    public var measuredSeconds: Double?
    public var budgetSeconds: Double?
    /// What the plan expected before it ran: the critical path of the steps' estimates.
    public var forecastSeconds: Double?
    public var verdict: BudgetVerdict { BudgetVerdict.judge(measuredSeconds, budget: budgetSeconds) }
}

/// RPO: the data loss expected at preflight and, for drills, the one measured (heartbeat).
public struct RPOEvidence: Sendable, Equatable {
    public var expectedSeconds: Double?
    public var measuredSeconds: Double?
    public var budgetSeconds: Double?
    /// The measurement when there is one, else the expectation.
    public var decisiveSeconds: Double? { measuredSeconds ?? expectedSeconds }
    public var source: String? { measuredSeconds != nil ? "measured" : (expectedSeconds != nil ? "expected" : nil) }
    public var verdict: BudgetVerdict { BudgetVerdict.judge(decisiveSeconds, budget: budgetSeconds) }
}

/// An operator's explicit acceptance of data loss above the RPO budget (`--accept-data-loss`).
public struct DataLossAcceptance: Sendable, Equatable {
    public var acceptedSeconds: Double?
    public var expectedSeconds: Double?
    public var budgetSeconds: Double?
    public var by: String
    public var at: Date
}

/// A preflight check or a drill validation.
public struct CheckEvidence: Sendable, Equatable {
    public var name: String
    public var ok: Bool
    public var detail: String
    /// False for a preflight warning: it did not pass, and the move went on by design.
    public var blocking: Bool

    public init(name: String, ok: Bool, detail: String, blocking: Bool = true) {
        self.name = name
        self.ok = ok
        self.detail = detail
        self.blocking = blocking
    }

    /// As reports print it: `ok`, `warning` (a check that does not stop a move), or `FAILED`.
    public var result: String { ok ? "ok" : blocking ? "FAILED" : "warning" }
}

public struct StepEvidence: Sendable, Equatable {
    public var id: String
    public var action: String
    public var description: String
    /// The step's final state ("succeeded", "failed", "skipped", "compensated", "pending" …).
    public var result: String
    public var startedAt: Date?
    public var endedAt: Date?
    public var attempts: Int
    public var error: String?
    public var approvedBy: String?
    public var deniedBy: String?
    /// What the approver was shown.
    public var shown: String?
    public var compensated: Bool
    public var outputs: [String: String]

    public var durationSeconds: Double? {
        guard let startedAt, let endedAt else { return nil }
        return endedAt.timeIntervalSince(startedAt)
    }
}

public struct ApprovalEvidence: Sendable, Equatable {
    public var stepId: String
    /// "approved" | "denied".
    public var decision: String
    public var by: String
    /// "terminal" | "--yes" | "approve".
    public var via: String
    public var shown: String
    public var reason: String?
    public var at: Date
}

public struct CompensationEvidence: Sendable, Equatable {
    public var stepId: String
    public var action: String?
    public var summary: String?
    public var reason: String?
    /// "succeeded" | "failed" | nil while only the intent is journaled.
    public var result: String?
    public var error: String?
    public var startedAt: Date?
    public var endedAt: Date?
}

public struct RunTransition: Sendable, Equatable {
    public var at: Date
    public var from: String?
    public var to: String
    public var reason: String?
}
