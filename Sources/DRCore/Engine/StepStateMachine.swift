/// The life of one step, as a value: `mutating func handle(_:)` applies an event and says what the
/// executor must do next; an event that is not legal in the current state is refused, never
/// silently ignored. Documented transitions:
///
///     pending  --start-->            running
///     pending  --skip-->             skipped
///     running  --needApproval-->     waiting
///     waiting  --approved-->         running
///     waiting  --denied-->           failed
///     running  --succeeded-->        succeeded
///     running  --failed(retry)-->    running   (attempt + 1, after a backoff)
///     running  --failed(final)-->    failed
///     running  --outcomeUnknown-->   unknown
///     running  --interrupted-->      pending   (nothing was acted on: start again on resume)
///     unknown  --start-->            running   (resume: observe before acting again)
///     failed   --start-->            running   (resume of a failed run retries the failed step)
///     succeeded --compensated-->     compensated
public struct StepStateMachine: Sendable, Equatable {
    public enum State: String, Sendable, Codable, CaseIterable {
        case pending, running, waiting, succeeded, failed, skipped, unknown, compensated

        public var isTerminal: Bool {
            switch self {
            case .succeeded, .failed, .skipped, .compensated: return true
            default: return false
            }
        }
    }

    public enum Event: Sendable, Equatable {
        case start
        case skip(reason: String)
        case needApproval
        case approved
        case denied
        case succeeded
        /// `retryable` and attempts left decide between another attempt and `failed`.
        case failed(error: String, retryable: Bool)
        case outcomeUnknown(error: String)
        case interrupted
        case compensated
    }

    public enum Action: Sendable, Equatable {
        case run(attempt: Int)
        case retry(attempt: Int)
        case promptForApproval
        case finish(State)
        case returnToPending
    }

    public struct IllegalTransition: Error, Sendable, Equatable, CustomStringConvertible {
        public let state: State
        public let event: Event
        public var description: String { "step cannot handle \(event) while \(state.rawValue)" }
    }

    public private(set) var state: State
    public private(set) var attempt: Int
    public let maxAttempts: Int

    public init(state: State = .pending, attempt: Int = 0, maxAttempts: Int = 1) {
        self.state = state
        self.attempt = attempt
        self.maxAttempts = max(1, maxAttempts)
    }

    public mutating func handle(_ event: Event) throws -> Action {
        switch (state, event) {
        case (.pending, .start), (.unknown, .start), (.failed, .start):
            state = .running
            attempt += 1
            return .run(attempt: attempt)
        case (.pending, .skip):
            state = .skipped
            return .finish(.skipped)
        case (.running, .needApproval):
            state = .waiting
            return .promptForApproval
        case (.waiting, .approved):
            state = .running
            return .run(attempt: attempt)
        case (.waiting, .denied):
            state = .failed
            return .finish(.failed)
        case (.running, .succeeded):
            state = .succeeded
            return .finish(.succeeded)
        case (.running, .failed(_, let retryable)):
            if retryable && attempt < maxAttempts {
                attempt += 1
                return .retry(attempt: attempt)
            }
            state = .failed
            return .finish(.failed)
        case (.running, .outcomeUnknown):
            state = .unknown
            return .finish(.unknown)
        case (.running, .interrupted), (.waiting, .interrupted):
            state = .pending
            return .returnToPending
        case (.succeeded, .compensated):
            state = .compensated
            return .finish(.compensated)
        default:
            throw IllegalTransition(state: state, event: event)
        }
    }
}
