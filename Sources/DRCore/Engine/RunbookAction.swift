import Foundation

/// An operation a step can perform. Every action has three parts (DESIGN.md, "Engine"):
/// - `observe` reads the real state and returns outputs when the desired state already holds
///   (then nothing is done — this is what makes resume after a crash safe);
/// - `act` makes the change, idempotently (names and tokens derive from run and step ids);
/// - `verify` waits (through `Waiter`) until the change is really there and returns outputs.
/// The executor journals an intent before `act` and the outcome after it.
public protocol RunbookAction: Sendable {
    var name: String { get }
    /// True when `act` changes something outside drctl (journaled intent/outcome; needs approval
    /// rules; shown by `plan`). Waits and checks are not mutating.
    var isMutating: Bool { get }
    /// The `with` arguments it takes; the runbook validator checks steps against them.
    var parameters: [ActionCatalog.Parameter] { get }
    /// One sentence: what it does (`drctl actions`, docs/actions.md). Every registered action
    /// declares one; a test fails on an empty summary (the default below only serves test doubles).
    var summary: String { get }
    /// What the caller needs for every call observe / act / verify may make (`drctl actions`, and
    /// least-privilege policies). AWS actions declare theirs; a test fails on an AWS action with none.
    var permissions: [ActionPermission] { get }
    /// What the step would do, for `drctl plan` and for the intent entry. No I/O.
    func describe(_ arguments: [String: RunValue]) -> String
    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]?
    /// Returns what the change produced (ids, captured output), handed to `verify`.
    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue]
    /// Waits until the desired state holds; returns the step's outputs. `acted` is what `act`
    /// returned — after a resume, as journaled with the act's outcome — or empty when that is not
    /// known (the act's outcome was not journaled, or came from a journal older than this field).
    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue]
    /// Whether `observe` can tell, for these arguments, that the effect is already there. A mutating
    /// action that cannot is never acted on again after its outcome was in doubt unless a human
    /// allows it (`drctl resume RUN --rerun-unknown STEP`, or a typed answer at a terminal).
    func canObserve(_ arguments: [String: RunValue]) -> Bool
    /// Runs before a step whose last attempt is in doubt (a crash or kill between intent and
    /// outcome) is observed or acted on again: deals with what that attempt may have left running —
    /// `exec` waits for its command's process group, up to the step's deadline, then stops it.
    /// `invocation.inDoubtDetail` holds what the attempt journaled (`recordIntentDetail`).
    /// Returns what it found, for the journal and the operator; nil when there is nothing to say.
    func settleInDoubt(_ invocation: ActionInvocation) async throws -> String?
}

extension RunbookAction {
    public var summary: String { "" }
    public var permissions: [ActionPermission] { [] }
    public func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? { nil }
    public func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] { [:] }
    public func canObserve(_ arguments: [String: RunValue]) -> Bool { true }
    public func settleInDoubt(_ invocation: ActionInvocation) async throws -> String? { nil }
}

/// Everything an action gets for one attempt.
public struct ActionInvocation: Sendable {
    public let runId: String
    public let stepId: String
    public let attempt: Int
    public let arguments: [String: RunValue]
    /// When the step first started (first attempt, before any crash): lets a `wait` resume
    /// with the time it still has to wait instead of starting over.
    public let firstStartedAt: Date
    /// The step must be done by then (its timeout, bounded by the run's RTO budget).
    public let deadline: Date
    /// True when this attempt follows a crash or interruption of an earlier one.
    public let isResume: Bool
    public let services: ActionServices
    /// Journals facts about this attempt next to its intent, before its outcome is known — e.g. the
    /// pid of the command it started, so that a resume after a crash can find what is left of it.
    /// Does nothing where there is no journal (compensations, tests).
    public let recordIntentDetail: @Sendable ([String: RunValue]) async throws -> Void
    /// What the previous attempt journaled through `recordIntentDetail`, when its outcome is in doubt.
    public let inDoubtDetail: [String: RunValue]

    public init(runId: String, stepId: String, attempt: Int, arguments: [String: RunValue], firstStartedAt: Date,
                deadline: Date, isResume: Bool, services: ActionServices,
                recordIntentDetail: @escaping @Sendable ([String: RunValue]) async throws -> Void = { _ in },
                inDoubtDetail: [String: RunValue] = [:]) {
        self.runId = runId
        self.stepId = stepId
        self.attempt = attempt
        self.arguments = arguments
        self.firstStartedAt = firstStartedAt
        self.deadline = deadline
        self.isResume = isResume
        self.services = services
        self.recordIntentDetail = recordIntentDetail
        self.inDoubtDetail = inDoubtDetail
    }

    /// Nothing of this step can have happened yet: its first attempt, not following a crash or an
    /// interruption. An action whose call is its own check (RDS refuses a change that does not
    /// apply; an UPSERT is idempotent) may then skip the read before acting — one round trip less
    /// on a failover's critical path; retries and resumes still observe first.
    public var isFirstTry: Bool { attempt == 1 && !isResume }

    /// A name or token unique to this run and step, stable across retries and resumes, for
    /// idempotent creates (`ClientToken`, snapshot names, `CallerReference`).
    public var idempotencyToken: String { "\(runId)-\(stepId)" }

    public func string(_ key: String) throws -> String {
        guard case .string(let value)? = arguments[key] else { throw ActionError.invalidArgument(key, "a string") }
        return value
    }

    /// A duration argument within `DurationText`'s range. The loader checks constants; this checks
    /// what expressions produce at run time (an output, an input, `duration(x)`).
    public func seconds(_ key: String) throws -> Double? {
        guard let value = arguments[key] else { return nil }
        let seconds: Double?
        if case .string(let text) = value { seconds = DurationText.parse(text) } else { seconds = value.secondsValue.flatMap(DurationText.seconds(fromNumber:)) }
        guard let seconds else { throw ActionError.invalidArgument(key, "a duration (\(DurationText.rangeText))") }
        return seconds
    }
}

/// Shared facilities actions may use; passed in, never global.
public struct ActionServices: Sendable {
    public let clock: any EngineClock
    public let transport: (any HTTPTransport)?
    /// Where `notify` without a webhook writes, and where actions report progress lines.
    public let messages: @Sendable (String) -> Void
    /// Set by the executor for the `run` action: starts or resumes a child run.
    public internal(set) var childRuns: ChildRunLauncher?

    public init(clock: any EngineClock = SystemClock(), transport: (any HTTPTransport)? = nil,
                messages: @escaping @Sendable (String) -> Void = { print($0) }) {
        self.clock = clock
        self.transport = transport
        self.messages = messages
    }
}

/// Why an action failed, classified so that retry policies (`retry.on`) can decide.
public struct ActionError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        /// Worth another attempt: 5xx, resets, a busy resource.
        case transient
        case throttling
        case timeout
        /// Will not get better by trying again: validation, a failed check, a denied approval.
        case permanent
        /// The action may or may not have changed the world (its result was lost).
        case outcomeUnknown
    }

    public let kind: Kind
    public let message: String
    /// The attempt is over and nothing it started still runs (a command stopped and reaped): a
    /// timeout then means the action did not finish, not that its result was lost, so the engine
    /// does not turn it into an unknown outcome.
    public let stoppedCleanly: Bool

    public init(_ kind: Kind, _ message: String, stoppedCleanly: Bool = false) {
        self.kind = kind
        self.message = message
        self.stoppedCleanly = stoppedCleanly
    }

    public var description: String { message }

    static func invalidArgument(_ key: String, _ expected: String) -> ActionError {
        ActionError(.permanent, "argument '\(key)' must be \(expected)")
    }
}

/// The actions a runbook may name. The engine's built-ins plus what providers register.
public struct ActionRegistry: Sendable {
    private var actions: [String: any RunbookAction] = [:]

    public init(_ actions: [any RunbookAction] = []) {
        for action in actions { register(action) }
    }

    public mutating func register(_ action: any RunbookAction) {
        actions[action.name] = action
    }

    public func action(_ name: String) -> (any RunbookAction)? { actions[name] }
    public var names: [String] { actions.keys.sorted() }

    /// What the validator knows about these actions: derived, so the two never disagree.
    public var catalog: ActionCatalog {
        ActionCatalog(actions.values.map { ActionCatalog.Action($0.name, parameters: $0.parameters) })
    }

    /// The engine's own actions: wait, check, approve, notify, exec, run.
    public static let builtIns = ActionRegistry([WaitAction(), CheckAction(), ApproveAction(), NotifyAction(), ExecAction(),
                                                 RunChildAction()])
}
