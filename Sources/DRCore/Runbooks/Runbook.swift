/// A validated runbook. Produced only by `RunbookLoader` (which reports every problem with its
/// file, line and column); the engine trusts it.
public struct Runbook: Sendable, Equatable {
    public var name: String
    public var description: String
    public var inputs: [RunbookInput]
    public var budgets: RunbookBudgets
    public var steps: [RunbookStep]
    /// Run outputs: name → template over inputs and steps.
    public var outputs: [String: Template]
    /// Where it came from and the SHA-256 of its exact bytes (pinned in each run).
    public var source: RunbookSource

    public init(name: String, description: String = "", inputs: [RunbookInput] = [], budgets: RunbookBudgets = RunbookBudgets(),
                steps: [RunbookStep], outputs: [String: Template] = [:], source: RunbookSource) {
        self.name = name
        self.description = description
        self.inputs = inputs
        self.budgets = budgets
        self.steps = steps
        self.outputs = outputs
        self.source = source
    }

    public func step(_ id: String) -> RunbookStep? { steps.first { $0.id == id } }
}

public struct RunbookSource: Sendable, Equatable, Codable {
    public var path: String
    /// Lower-case hex SHA-256 of the file's bytes.
    public var digest: String

    public init(path: String, digest: String) {
        self.path = path
        self.digest = digest
    }
}

public struct RunbookInput: Sendable, Equatable {
    public var name: String
    public var type: RunValueType
    public var defaultValue: RunValue?
    public var description: String
    /// An input without default must be given with `--input name=value`.
    public var required: Bool { defaultValue == nil }

    public init(name: String, type: RunValueType, defaultValue: RunValue? = nil, description: String = "") {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.description = description
    }
}

public struct RunbookBudgets: Sendable, Equatable, Codable {
    /// Seconds of acceptable data loss (RPO) and of time to recover (RTO).
    public var rpo: Double?
    public var rto: Double?

    public init(rpo: Double? = nil, rto: Double? = nil) {
        self.rpo = rpo
        self.rto = rto
    }
}

public enum FailurePolicy: String, Sendable, Codable, CaseIterable {
    /// Stop the run; completed steps stay as they are.
    case abort
    /// Record the failure and go on with steps that do not need this one.
    case `continue`
    /// Stop, then run the compensations of completed steps in reverse order of completion.
    case rollback
    /// Ask the operator at a terminal whether to go on as if the step were done (typed
    /// confirmation, journaled; the run ends `degraded`); without a terminal, or if the answer is
    /// no, stop as `abort` does — `drctl resume RUN --tolerate STEP` accepts it later. `--yes`
    /// never answers this question.
    case ask
}

public struct StepRetryPolicy: Sendable, Equatable, Codable {
    /// Total attempts, the first included.
    public var attempts: Int
    /// Base delay in seconds; doubles each attempt (with jitter), capped by `maxBackoff`.
    public var backoff: Double
    public var maxBackoff: Double
    /// Error kinds retried (`transient`, `throttling`, `timeout`, `any`); empty means `transient`.
    public var on: [String]

    public init(attempts: Int = 1, backoff: Double = 1, maxBackoff: Double = 60, on: [String] = []) {
        self.attempts = attempts
        self.backoff = backoff
        self.maxBackoff = maxBackoff
        self.on = on
    }
}

/// An action call: the action's name and its arguments.
public struct ActionCall: Sendable, Equatable {
    public var action: String
    public var with: [String: Template]

    public init(action: String, with: [String: Template] = [:]) {
        self.action = action
        self.with = with
    }
}

public struct RunbookStep: Sendable, Equatable {
    public var id: String
    public var call: ActionCall
    public var needs: [String]
    public var when: Expression?
    /// Seconds; nil means the action's own default.
    public var timeout: Double?
    public var retry: StepRetryPolicy
    /// Expected duration in seconds, for the RTO forecast.
    public var estimate: Double?
    public var onFailure: FailurePolicy
    public var compensate: ActionCall?
    public var description: String
    public var location: FileLocation

    public init(id: String, call: ActionCall, needs: [String] = [], when: Expression? = nil, timeout: Double? = nil,
                retry: StepRetryPolicy = StepRetryPolicy(), estimate: Double? = nil, onFailure: FailurePolicy = .abort,
                compensate: ActionCall? = nil, description: String = "", location: FileLocation = FileLocation()) {
        self.id = id
        self.call = call
        self.needs = needs
        self.when = when
        self.timeout = timeout
        self.retry = retry
        self.estimate = estimate
        self.onFailure = onFailure
        self.compensate = compensate
        self.description = description
        self.location = location
    }
}

public struct FileLocation: Sendable, Equatable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String = "", line: Int = 0, column: Int = 0) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}
