/// The life of a run. Documented transitions:
///
///     running     --pause(step)-->     paused       (an approval is needed and nobody can give it here)
///     running     --interrupt-->       interrupted  (Ctrl-C / SIGTERM at a step boundary, or a crash found on resume)
///     running     --finish(ok)-->      succeeded
///     running     --finish(degraded)--> degraded    (went to its end, but not every step that should have run did)
///     running     --finish(failed)-->  failed
///     running     --finish(unknown)--> unknown      (a mutating step's outcome could not be confirmed)
///     paused | interrupted | unknown | failed | degraded  --resume-->  running
///     any non-final | failed | degraded  --abort-->  aborted   (after compensations)
public struct RunStateMachine: Sendable, Equatable {
    public enum Event: Sendable, Equatable {
        case pause
        case interrupt
        case finish(RunStatus)
        case resume
        case abort
    }

    public struct IllegalTransition: Error, Sendable, Equatable, CustomStringConvertible {
        public let state: RunStatus
        public let event: Event
        public var description: String { "a \(state.rawValue) run cannot handle \(event)" }
    }

    public private(set) var state: RunStatus

    public init(state: RunStatus = .running) { self.state = state }

    /// Applies the event and returns the new status.
    @discardableResult
    public mutating func handle(_ event: Event) throws -> RunStatus {
        switch (state, event) {
        case (.running, .pause):
            state = .paused
        case (.running, .interrupt):
            state = .interrupted
        case (.running, .finish(let status)) where [.succeeded, .degraded, .failed, .unknown].contains(status):
            state = status
        case (.paused, .resume), (.interrupted, .resume), (.unknown, .resume), (.failed, .resume), (.degraded, .resume):
            state = .running
        case (.running, .abort), (.paused, .abort), (.interrupted, .abort), (.unknown, .abort), (.failed, .abort), (.degraded, .abort):
            state = .aborted
        default:
            throw IllegalTransition(state: state, event: event)
        }
        return state
    }
}
