import Foundation

/// Rebuilds a run's state from its journal: what `resume`, `show` and `approve` start from.
/// Pure: entries in, state out.
public struct JournalReplay: Sendable {
    public struct StepRecord: Sendable, Equatable {
        public var state: StepStateMachine.State = .pending
        public var attempt = 0
        public var outputs: [String: RunValue] = [:]
        public var firstStartedAt: Date?
        public var startedAt: Date?
        public var endedAt: Date?
        public var error: String?
        /// An intent for the latest attempt without an outcome: the action may have acted.
        public var inDoubt = false
        /// The latest outcome said the action succeeded (its status entry may be missing after a crash).
        public var actedSuccessfully = false
        /// What that successful act returned (a change id to wait on …), for a resumed verify.
        public var acted: [String: RunValue] = [:]
        public var approvedBy: String?
        public var deniedBy: String?
        public var completionOrder: Int?
        public var compensated = false
        /// Why a skipped step was skipped; nil for other states.
        public var skipCause: SkipCause?
        /// Who accepted this step's failure and let the steps that need it go on (`on_failure: ask`
        /// answered at a terminal, or `drctl resume --tolerate STEP`).
        public var toleratedBy: String?

        /// The step succeeded but said it could not do all it should (a fence it could not
        /// confirm): its `degraded` output.
        public var degradedReason: String? {
            guard state == .succeeded, case .string(let reason)? = outputs[JournalReplay.degradedOutput], !reason.isEmpty else { return nil }
            return reason
        }

        public init() {}
    }

    /// Why a step was skipped: a false `when` (or a need skipped for that reason) is part of a
    /// successful run; a need that failed is not.
    public enum SkipCause: String, Sendable, Equatable {
        case condition
        case failedNeed = "need"
    }

    /// The output by which a succeeded step reports that the run cannot count as a full success.
    public static let degradedOutput = "degraded"

    public var runStatus: RunStatus?
    public var steps: [String: StepRecord] = [:]
    public var startedAt: Date?
    public var lastEntryAt: Date?
    public var entryCount = 0
    private var completions = 0

    public init(entries: [JournalEntry]) {
        for entry in entries { apply(entry) }
    }

    /// Folds one more entry in (the executor keeps its replay current with the entries it writes).
    mutating func apply(_ entry: JournalEntry) {
        entryCount += 1
        lastEntryAt = entry.at
        if startedAt == nil { startedAt = entry.at }
        switch entry.kind {
        case .runStatus:
            if let to = entry.detail["to"]?.stringValue, let status = RunStatus(rawValue: to) { runStatus = status }
        case .stepStatus:
            guard let id = entry.stepId, let to = entry.detail["to"]?.stringValue,
                  let state = StepStateMachine.State(rawValue: to) else { return }
            var step = steps[id] ?? StepRecord()
            step.state = state
            if let attempt = entry.attempt { step.attempt = max(step.attempt, attempt) }
            switch state {
            case .running:
                if step.firstStartedAt == nil { step.firstStartedAt = entry.at }
                step.startedAt = step.startedAt ?? entry.at
                step.error = nil
                step.actedSuccessfully = false
                step.toleratedBy = nil
                step.acted = [:]
            case .succeeded, .failed, .skipped, .unknown:
                step.endedAt = entry.at
                step.error = entry.detail["error"]?.stringValue
                step.skipCause = state == .skipped ? Self.skipCause(of: entry) : nil
                if state == .succeeded {
                    completions += 1
                    step.completionOrder = completions
                }
            case .compensated:
                step.compensated = true
            case .pending, .waiting:
                step.toleratedBy = nil
            }
            steps[id] = step
        case .intent:
            guard let id = entry.stepId else { return }
            steps[id, default: StepRecord()].inDoubt = true
        case .outcome:
            guard let id = entry.stepId else { return }
            steps[id, default: StepRecord()].inDoubt = entry.detail["result"]?.stringValue == "unknown"
            steps[id, default: StepRecord()].actedSuccessfully = entry.detail["result"]?.stringValue == "succeeded"
            if case .map(let acted)? = entry.detail["acted"] { steps[id, default: StepRecord()].acted = acted } else { steps[id, default: StepRecord()].acted = [:] }
        case .outputs:
            guard let id = entry.stepId else { return }
            var outputs = entry.detail
            outputs.removeValue(forKey: "__final")
            steps[id, default: StepRecord()].outputs = outputs
        case .approval:
            guard let id = entry.stepId else { return }
            let by = entry.detail["by"]?.stringValue ?? "unknown"
            if entry.detail["decision"]?.stringValue == "approved" {
                steps[id, default: StepRecord()].approvedBy = by
            } else {
                steps[id, default: StepRecord()].deniedBy = by
            }
        case .note:
            if entry.detail["event"]?.stringValue == "tolerated", let id = entry.stepId {
                steps[id, default: StepRecord()].toleratedBy = entry.detail["by"]?.stringValue ?? "unknown"
            }
        case .compensation:
            break
        }
    }

    /// Journals written before skip causes were recorded say why only in words.
    static func skipCause(of entry: JournalEntry) -> SkipCause {
        if let cause = entry.detail["cause"]?.stringValue.flatMap(SkipCause.init(rawValue:)) { return cause }
        return entry.detail["error"]?.stringValue == "when is false" ? .condition : .failedNeed
    }

    /// Why a run that went to its end is not a full success, one line per step, in `order`:
    /// failures that were tolerated, steps skipped because something they needed failed, and
    /// steps that succeeded but reported a degradation. Empty for a full success.
    public func degradations(order: [String]) -> [String] {
        order.compactMap { id in
            guard let step = steps[id] else { return nil }
            switch step.state {
            case .failed:
                let tolerance = step.toleratedBy.map { "tolerated by \($0)" } ?? "tolerated by its failure policy"
                return "\(id) failed (\(tolerance))\(step.error.map { ": \($0)" } ?? "")"
            case .skipped where step.skipCause == .failedNeed:
                return "\(id) did not run\(step.error.map { ": \($0)" } ?? "")"
            case .succeeded:
                return step.degradedReason.map { "\(id): \($0)" }
            default:
                return nil
            }
        }
    }

    /// Steps that succeeded, most recently completed first (the order compensations run in).
    public var completedNewestFirst: [String] {
        steps.filter { $0.value.state == .succeeded && !$0.value.compensated }
            .sorted { ($0.value.completionOrder ?? 0) > ($1.value.completionOrder ?? 0) }
            .map(\.key)
    }
}
