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
        public var approvedBy: String?
        public var deniedBy: String?
        public var completionOrder: Int?
        public var compensated = false

        public init() {}
    }

    public var runStatus: RunStatus?
    public var steps: [String: StepRecord] = [:]
    public var startedAt: Date?
    public var lastEntryAt: Date?
    public var entryCount = 0
    private var completions = 0

    public init(entries: [JournalEntry]) {
        for entry in entries { apply(entry) }
    }

    private mutating func apply(_ entry: JournalEntry) {
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
            case .succeeded, .failed, .skipped, .unknown:
                step.endedAt = entry.at
                step.error = entry.detail["error"]?.stringValue
                if state == .succeeded {
                    completions += 1
                    step.completionOrder = completions
                }
            case .compensated:
                step.compensated = true
            case .pending, .waiting:
                break
            }
            steps[id] = step
        case .intent:
            guard let id = entry.stepId else { return }
            steps[id, default: StepRecord()].inDoubt = true
        case .outcome:
            guard let id = entry.stepId else { return }
            steps[id, default: StepRecord()].inDoubt = entry.detail["result"]?.stringValue == "unknown"
            steps[id, default: StepRecord()].actedSuccessfully = entry.detail["result"]?.stringValue == "succeeded"
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
        case .compensation, .note:
            break
        }
    }

    /// Steps that succeeded, most recently completed first (the order compensations run in).
    public var completedNewestFirst: [String] {
        steps.filter { $0.value.state == .succeeded && !$0.value.compensated }
            .sorted { ($0.value.completionOrder ?? 0) > ($1.value.completionOrder ?? 0) }
            .map(\.key)
    }
}
