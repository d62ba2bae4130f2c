import Foundation

/// Runs one step to an end (success, failure, unknown, needs approval, interrupted): evaluates
/// its arguments, obtains approvals, and drives observe → intent → act → outcome → verify with
/// retries and a timeout. Journals everything it does before it matters.
struct StepRunner: Sendable {
    enum Result: Sendable {
        case succeeded([String: RunValue])
        case failed(String)
        case unknown(String)
        case needsApproval(ApprovalRequest)
        case interrupted
    }

    let runId: String
    let step: RunbookStep
    let action: any RunbookAction
    let arguments: [String: RunValue]
    let record: JournalReplay.StepRecord
    let isResume: Bool
    let environment: EngineEnvironment
    let startAttempt: Int

    var configuration: EngineConfiguration { environment.configuration }
    var store: any StateStore { environment.store }
    var prompter: any ApprovalPrompter { environment.prompter }
    var observer: any RunObserver { environment.observer }
    var services: ActionServices { environment.services }
    var interruption: InterruptionFlag { environment.interruption }

    func run() async -> Result {
        let clock = services.clock
        let firstStartedAt = record.firstStartedAt ?? clock.now()
        var attempt = startAttempt
        var resumeState = record

        if action.name == "approve" {
            switch await approval() {
            case .approved(let by):
                return await attemptLoop(attempt: &attempt, firstStartedAt: firstStartedAt, resumeState: &resumeState,
                                         extra: [ApproveAction.approverArgument: .string(by)])
            case .denied(let by, let reason):
                return .failed("approval denied by \(by)\(reason.isEmpty ? "" : ": \(reason)")")
            case nil:
                return .needsApproval(approvalRequest)
            }
        }
        return await attemptLoop(attempt: &attempt, firstStartedAt: firstStartedAt, resumeState: &resumeState, extra: [:])
    }

    private var approvalRequest: ApprovalRequest {
        ApprovalRequest(runId: runId, stepId: step.id, summary: arguments["summary"]?.description ?? step.description,
                        irreversible: arguments["irreversible"]?.boolValue ?? false, resource: arguments["resource"]?.stringValue)
    }

    /// An approval already journaled (e.g. by `drctl approve`), `--yes`, a named pre-approval,
    /// or a human at a terminal; nil when nobody can answer here.
    private func approval() async -> ApprovalAnswer? {
        if let by = record.approvedBy { return .approved(by: by) }
        let request = approvalRequest
        let answer: ApprovalAnswer?
        let via: String
        if configuration.autoApprove || configuration.preApproved.contains(step.id) {
            answer = .approved(by: configuration.operatorName)
            via = configuration.autoApprove ? "--yes" : "--approve"
        } else {
            observer.handle(.stepWaitingForApproval(stepId: step.id, request: request))
            answer = await prompter.requestApproval(request)
            via = "terminal"
        }
        guard let answer else { return nil }
        do {
            try await store.append(request.journalEntry(answer, via: via, at: services.clock.now()))
        } catch {
            return .denied(by: "drctl", reason: "could not journal the approval: \(error)")
        }
        return answer
    }

    private func attemptLoop(attempt: inout Int, firstStartedAt: Date, resumeState: inout JournalReplay.StepRecord,
                             extra: [String: RunValue]) async -> Result {
        var arguments = self.arguments
        for (key, value) in extra { arguments[key] = value }
        let timeout = step.timeout ?? configuration.defaultStepTimeout
        let maxAttempts = max(1, step.retry.attempts)
        var inDoubtDetail: [String: RunValue] = [:]
        if resumeState.inDoubt && action.isMutating {
            // A crash or kill left this step between intent and outcome: first deal with what the
            // interrupted attempt may still have running, then make sure acting again is allowed.
            switch await prepareInDoubtRetry(attempt: attempt, arguments: arguments, timeout: timeout) {
            case .proceed(let detail): inDoubtDetail = detail
            case .stop(let result): return result
            }
        }
        while true {
            let deadline = services.clock.now().addingTimeInterval(timeout)
            let invocation = ActionInvocation(runId: runId, stepId: step.id, attempt: attempt, arguments: arguments,
                                              firstStartedAt: firstStartedAt, deadline: deadline,
                                              isResume: isResume || resumeState.inDoubt, services: services,
                                              recordIntentDetail: intentDetailRecorder(attempt: attempt), inDoubtDetail: inDoubtDetail)
            let outcome = await oneAttempt(invocation, timeout: timeout, resumeState: resumeState)
            resumeState = JournalReplay.StepRecord()   // only the first attempt after a resume inherits its state
            inDoubtDetail = [:]
            switch outcome {
            case .success(let outputs):
                return .succeeded(outputs)
            case .failure(let error):
                if interruption.stage == .stopNow {
                    // Stopping a step that changes nothing (wait, check, approve) leaves nothing in doubt.
                    return action.isMutating && error.kind == .outcomeUnknown ? .unknown(error.message) : .interrupted
                }
                let retryable = shouldRetry(error)
                guard retryable, attempt < maxAttempts else {
                    return error.kind == .outcomeUnknown ? .unknown(error.message) : .failed(error.message)
                }
                let delay = min(step.retry.maxBackoff, step.retry.backoff * pow(2, Double(attempt - 1))) * Double.random(in: 0.5...1)
                observer.handle(.stepRetrying(stepId: step.id, attempt: attempt + 1, delay: delay, error: error.message))
                do { try await services.clock.sleep(seconds: delay) } catch { return .interrupted }
                attempt += 1
                _ = try? await store.append(JournalEntry(runId: runId, at: services.clock.now(), kind: .stepStatus, stepId: step.id,
                                                         attempt: attempt, detail: ["from": .string("running"), "to": .string("running"),
                                                                                    "error": .string(error.message)]))
            }
        }
    }

    private func shouldRetry(_ error: ActionError) -> Bool {
        // Acting again after doubt needs an observation first; without one, a human decides (resume).
        if error.kind == .outcomeUnknown && action.isMutating && !action.canObserve(arguments) { return false }
        let kinds = step.retry.on.isEmpty ? ["transient", "throttling", "timeout"] : step.retry.on
        if kinds.contains("any") { return true }
        if error.kind == .outcomeUnknown { return kinds.contains("transient") || kinds.contains("timeout") }
        return kinds.contains(error.kind.rawValue)
    }

    /// observe → intent → act → outcome → verify, under the step's timeout.
    private func oneAttempt(_ invocation: ActionInvocation, timeout: Double,
                            resumeState: JournalReplay.StepRecord) async -> Swift.Result<[String: RunValue], ActionError> {
        let store = self.store, action = self.action, runId = self.runId, stepId = step.id, clock = services.clock
        let mutating = action.isMutating, interruption = self.interruption
        return await withTimeout(seconds: timeout, interruption: interruption) {
            if mutating {
                // Observe first: after a crash, or when an earlier attempt's outcome is unknown,
                // the change may already be there.
                if let observed = try await action.observe(invocation) {
                    try await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .outcome, stepId: stepId,
                                                        attempt: invocation.attempt,
                                                        detail: ["result": .string("succeeded"), "observed": .bool(true)]))
                    return observed
                }
                if !resumeState.actedSuccessfully {
                    let acted: [String: RunValue]
                    try await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .intent, stepId: stepId,
                                                        attempt: invocation.attempt,
                                                        detail: ["action": .string(action.name),
                                                                 "summary": .string(action.describe(invocation.arguments))]))
                    do {
                        acted = try await action.act(invocation)
                    } catch {
                        var classified = Self.classify(error, acting: true)
                        if interruption.stage == .stopNow && classified.kind != .outcomeUnknown {
                            // A second Ctrl-C stopped it while it acted: whatever it did so far stays.
                            classified = ActionError(.outcomeUnknown, classified.message)
                        }
                        // If this write fails too, the action's own error still decides (the
                        // intent without an outcome makes a resume observe first).
                        _ = try? await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .outcome, stepId: stepId,
                                                             attempt: invocation.attempt,
                                                             detail: ["result": .string(classified.kind == .outcomeUnknown ? "unknown" : "failed"),
                                                                      "error": .string(classified.message)]))
                        throw classified
                    }
                    // What act returned (a change id, an operation) goes with the outcome: a resumed
                    // verify waits on exactly that instead of trusting a re-read of the state.
                    do {
                        try await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .outcome, stepId: stepId,
                                                            attempt: invocation.attempt,
                                                            detail: ["result": .string("succeeded"), "acted": .map(acted)]))
                    } catch {
                        // The change happened but the journal cannot say so: in doubt, never failed.
                        throw ActionError(.outcomeUnknown, "acted, but the outcome could not be journaled: \(error)")
                    }
                    return try await action.verify(invocation, acted: acted)
                }
                // Acted before a crash: verify waits on what that act returned, from the journal.
                return try await action.verify(invocation, acted: resumeState.acted)
            }
            return try await action.verify(invocation, acted: [:])
        }
    }

    static func classify(_ error: any Error, acting: Bool) -> ActionError {
        if let error = error as? ActionError {
            // A timeout while acting leaves the world in doubt (unless the action made sure its
            // attempt is over); while verifying it does not.
            if acting && error.kind == .timeout && !error.stoppedCleanly { return ActionError(.outcomeUnknown, error.message) }
            return error
        }
        if error is CancellationError { return ActionError(acting ? .outcomeUnknown : .timeout, "cancelled") }
        if let error = error as? TransportError {
            return ActionError(error.isRetryable ? (acting ? .outcomeUnknown : .transient) : .permanent, error.description)
        }
        if let error = error as? ExpressionError { return ActionError(.permanent, error.message) }
        if let error = error as? StateStoreError { return ActionError(.permanent, error.description) }
        return ActionError(.permanent, String(describing: error))
    }
}

/// Runs `body` with a time limit; a second Ctrl-C cancels it too. The cancelled body is always
/// waited for (a task group ends with its tasks): when it reports an unknown outcome — it was
/// cancelled while acting — that is the result, not the plain timeout or interrupt that cancelled it.
func withTimeout<T: Sendable>(seconds: Double, interruption: InterruptionFlag,
                              _ body: @escaping @Sendable () async throws -> T) async -> Swift.Result<T, ActionError> {
    await withTaskGroup(of: (fromBody: Bool, result: Swift.Result<T, ActionError>?).self) { group in
        group.addTask {
            do { return (true, .success(try await body())) } catch { return (true, .failure(StepRunner.classify(error, acting: false))) }
        }
        group.addTask {
            try? await Task.sleep(for: .seconds(saturating: max(0.001, seconds)))
            return (false, Task.isCancelled ? nil : .failure(ActionError(.timeout, "step timed out after \(DurationText.format(seconds))")))
        }
        group.addTask {
            await interruption.wait(until: .stopNow)
            return (false, Task.isCancelled ? nil : .failure(ActionError(.timeout, "stopped by a second interrupt")))
        }
        var first: Swift.Result<T, ActionError>?
        var fromBody: Swift.Result<T, ActionError>?
        for await next in group {
            if next.fromBody { fromBody = next.result }
            if first == nil, let result = next.result {
                first = result
                group.cancelAll()
            }
        }
        if case .failure(let stopped)? = first, case .failure(let inDoubt)? = fromBody, inDoubt.kind == .outcomeUnknown {
            return .failure(ActionError(.outcomeUnknown, "\(stopped.message) while acting: \(inDoubt.message)"))
        }
        return first ?? .failure(ActionError(.timeout, "no result"))
    }
}
