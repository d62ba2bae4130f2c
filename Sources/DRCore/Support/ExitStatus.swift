/// drctl's exit codes: one table, one meaning each (documented in docs/exit-codes.md). The CLI maps
/// errors to these at its edge and nowhere else.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    case success = 0
    /// A run (failover, drill, runbook) ended failed.
    case runFailed = 1
    /// Bad flags or arguments.
    case usage = 2
    /// A runbook or plan file is invalid (located error printed).
    case invalidRunbook = 3
    /// Refused by the RPO/RTO budget (e.g. expected data loss above budget, not accepted).
    case refusedByBudget = 4
    /// The run is paused waiting for an approval (`drctl approve RUN STEP`).
    case pausedForApproval = 5
    /// A mutating step's outcome could not be confirmed; `drctl resume` re-observes it.
    case outcomeUnknown = 6
    /// Another run holds the lock for the same scope.
    case lockHeld = 7
    /// No usable credentials, or the cloud rejected them (wrong key, expired token, bad signature).
    case authenticationFailed = 8
    /// A cloud API or the network failed (service error, throttled beyond retries, unreachable).
    case cloudError = 9
    /// Local configuration is invalid (AWS config/credentials files, environment variables).
    case invalidConfiguration = 10
    /// `drctl status`: a protected resource's RPO is above the budget, or unknown.
    case rpoBudgetBreached = 11
    /// `drctl drill due`: the schedule called for a drill since the last successful one.
    case drillDue = 12
    /// A run went to its end but not every step that should have run did (a tolerated failure, a
    /// step skipped because something it needed failed, an unconfirmed fence); the summary lists them.
    case degraded = 13
    /// `drctl status`: no measured RPO is above the budget, but some could not be measured
    /// (credentials, an unreachable API, no recovery point at all): not known to be lost, not known safe.
    case rpoUnknown = 14
    /// A bug in drctl; please report it.
    case internalError = 70
    /// Stopped by Ctrl-C or SIGTERM at a step boundary; `drctl resume RUN` continues.
    case interrupted = 130

    public var summary: String {
        switch self {
        case .success: return "success"
        case .runFailed: return "the run failed"
        case .usage: return "usage error (bad flags or arguments)"
        case .invalidRunbook: return "invalid runbook or plan"
        case .refusedByBudget: return "refused by the RPO/RTO budget"
        case .pausedForApproval: return "paused, waiting for an approval"
        case .outcomeUnknown: return "outcome unknown; resume to re-observe"
        case .lockHeld: return "another run holds the lock"
        case .authenticationFailed: return "no usable credentials, or they were rejected"
        case .cloudError: return "a cloud API or the network failed"
        case .invalidConfiguration: return "invalid local configuration"
        case .rpoBudgetBreached: return "an RPO budget is breached: a measured RPO is above it"
        case .rpoUnknown: return "an RPO could not be measured (none measured is above the budget)"
        case .drillDue: return "a drill is due or overdue"
        case .degraded: return "the run finished degraded: not every step that should have run did"
        case .internalError: return "internal error"
        case .interrupted: return "interrupted; resume to continue"
        }
    }
}

extension ExitStatus {
    /// How a run that stopped with `status` ends the process.
    public init(_ status: RunStatus) {
        switch status {
        case .succeeded: self = .success
        case .degraded: self = .degraded
        case .failed, .aborted: self = .runFailed
        case .paused: self = .pausedForApproval
        case .unknown: self = .outcomeUnknown
        case .interrupted, .running: self = .interrupted
        }
    }
}
