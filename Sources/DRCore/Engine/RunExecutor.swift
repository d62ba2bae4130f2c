import Foundation

/// Executes a run: the DAG of steps with a concurrency bound, `when`, failure policies and
/// rollback, pausing for approvals and at Ctrl-C, all journaled so that `resume` — on this
/// machine or another with the same store — continues exactly where the run stopped.
///
/// Outcomes: `succeeded` only when every step that should have run did (a false `when` is fine);
/// `degraded` when the run went to its end with a tolerated failure, a step skipped because
/// something it needed failed, or a step that reported a degradation; `failed`, `unknown`,
/// `paused`, `interrupted` as their names say. A resume re-admits failed steps (except failures an
/// operator accepted) and everything skipped because of them, so a resumed run tells the same
/// truth as an uninterrupted one.
public actor RunExecutor {
    public let runbook: Runbook
    public let runId: String
    /// Where it journals, its actions, prompter, observer, services (with this run's child-run
    /// launcher) and interruption flag.
    private let environment: EngineEnvironment
    private var store: any StateStore { environment.store }
    private var registry: ActionRegistry { environment.registry }
    private var configuration: EngineConfiguration { environment.configuration }
    private var prompter: any ApprovalPrompter { environment.prompter }
    private var observer: any RunObserver { environment.observer }
    private var services: ActionServices { environment.services }
    private var interruption: InterruptionFlag { environment.interruption }
    private var machine = RunStateMachine(state: .running)
    private var replay: JournalReplay
    /// The run record's status when this execution began (the journal may be ahead of it after a
    /// crash while the run was finishing).
    private let recordedStatus: RunStatus
    private var inputs: [String: RunValue]
    /// Seconds per step for the RTO forecast (the runbook's `estimate`; history p90 later).
    private let estimates: [String: Double]
    private let stepsById: [String: RunbookStep]
    /// Needs bookkeeping: which steps may be judged next (built when the loop starts).
    private var graph: StepGraph?
    /// Every step's status and outputs as expressions see them, kept current as steps change.
    private var stepContext: [String: EvaluationContext.StepState] = [:]
    private var finishedCount = 0
    private var stop: Stop?
    private var paused = false
    private var lastProgressAt: Date?
    /// A change of the running steps not yet shown because it came within 0.2 s of the last snapshot.
    private var progressPending = false
    private var runningSteps: Set<String> = []
    /// Failed steps an operator accepted at resume (`--tolerate STEP`).
    private var toleratedAtResume: Set<String> = []

    /// Executes (or resumes, from `journal`) `run` of `runbook` in `environment`.
    public init(runbook: Runbook, run: RunRecord, journal: [JournalEntry], environment: EngineEnvironment) {
        self.runbook = runbook
        self.runId = run.id
        self.inputs = run.inputs
        self.recordedStatus = run.status
        var environment = environment
        environment.services.childRuns = ChildRunLauncher(parent: run, parentRunbookPath: runbook.source.path, environment: environment)
        self.environment = environment
        let replay = JournalReplay(entries: journal)
        self.replay = replay
        self.estimates = Dictionary(runbook.steps.map { ($0.id, $0.estimate ?? 0) }, uniquingKeysWith: { first, _ in first })
        self.stepsById = Dictionary(runbook.steps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for (id, record) in replay.steps {
            stepContext[id] = .init(status: record.state.rawValue, outputs: record.outputs)
        }
        finishedCount = replay.steps.values.filter { $0.state.isTerminal }.count
    }

    private var clock: any EngineClock { services.clock }

    /// Runs (or resumes) to a stop: a final status, a pause for approval, an interruption, or an
    /// unknown outcome. Takes the run's lease first and refuses if another run holds it.
    public func execute(lockScope: String) async throws -> RunStatus {
        let holder = LeaseHolder(runId: runId, holder: configuration.operatorName, host: configuration.host,
                                 pid: ProcessInfo.processInfo.processIdentifier, acquiredAt: clock.now(),
                                 expiresAt: clock.now().addingTimeInterval(configuration.leaseTTL))
        try await store.claimLease(scope: lockScope, holder: holder, ttl: configuration.leaseTTL, now: clock.now())
        let renewal = Task { [store, configuration, clock] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(saturating: configuration.leaseTTL / 3))
                guard !Task.isCancelled else { break }
                _ = try? await store.acquireLease(scope: lockScope, holder: holder, ttl: configuration.leaseTTL, now: clock.now())
            }
        }
        defer { renewal.cancel() }

        // The journal holds the run's end but the record does not: the process stopped while it
        // was finishing (after the final status, before the record or the lease). Finish that,
        // and report the run as it ended; a later resume can still retry what failed.
        if let ended = replay.runStatus, ended.isFinal || ended == .unknown, ended != recordedStatus {
            try await store.updateRun(runId, status: ended, at: clock.now())
            try await store.releaseLease(scope: lockScope, runId: runId)
            observer.handle(.runFinished(runId: runId, status: ended, outputs: ended == .succeeded || ended == .degraded ? runOutputs() : [:]))
            return ended
        }

        let resumed = replay.entryCount > 0 && replay.runStatus != nil
        let takenOver = "\(configuration.operatorName) on \(configuration.host) (pid \(ProcessInfo.processInfo.processIdentifier))"
        if let previous = replay.runStatus, previous != .running {
            machine = RunStateMachine(state: previous)
            try await transitionRun(.resume, reason: "resumed by \(takenOver)")
        } else if replay.runStatus == nil {
            try await journalRun(from: nil, to: .running, reason: "started by \(takenOver)")
        } else {
            // The journal says running: the process that ran it is gone (crash, kill -9).
            try await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .note,
                                                detail: ["event": .string("recovered"), "host": .string(configuration.host),
                                                         "reason": .string("the previous process stopped without a final status; taken over by \(takenOver)")]))
        }
        observer.handle(.runStarted(runId: runId, runbook: runbook.name, resumed: resumed))

        let status = try await loop()
        try await store.releaseLease(scope: lockScope, runId: runId)
        return status
    }

    /// `drctl resume RUN --tolerate STEP`: accept the failure of these failed steps and let the
    /// steps that need them run (journaled with who accepted it; the run ends `degraded`).
    public func tolerateFailures(_ steps: Set<String>) throws {
        for id in steps.sorted() {
            guard stepsById[id] != nil else { throw ToleranceError(message: "the run has no step \(id)") }
            guard replay.steps[id]?.state == .failed else {
                throw ToleranceError(message: "step \(id) is \(replay.steps[id]?.state.rawValue ?? "pending"), not failed: there is no failure to tolerate")
            }
        }
        toleratedAtResume = steps
    }

    // MARK: - The DAG loop

    private enum Stop { case failed(String), rollback(String), unknown(String) }

    private func loop() async throws -> RunStatus {
        try await prepareForResume()
        let replay = self.replay
        graph = StepGraph(steps: runbook.steps, settled: { replay.steps[$0]?.state.isTerminal ?? false },
                          startable: { [.pending, .unknown].contains(replay.steps[$0]?.state ?? .pending) })

        var running: Set<String> = [] {
            didSet { runningSteps = running }
        }
        let started = replay.startedAt ?? clock.now()
        // The clock of a long wait moves: a snapshot every `progressInterval`, also when nothing changes.
        let interval = configuration.progressInterval
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(max(0.05, interval) * 1e9))
                guard !Task.isCancelled, let self else { return }
                await self.reportProgress(started: started, tick: true)
            }
        }
        defer { ticker.cancel() }

        try await withThrowingTaskGroup(of: (String, StepRunner.Result).self) { group in
            while true {
                // A step that fails before it starts (unknown action, bad arguments) frees its slot
                // for the next ready step, so keep filling until the slots or the candidates run out.
                while stop == nil, !paused, interruption.stage == .none, running.count < configuration.concurrency {
                    let ready = try await nextReady(limit: configuration.concurrency - running.count)
                    if ready.isEmpty { break }
                    for runner in try await prepare(ready) {
                        running.insert(runner.step.id)
                        group.addTask { (runner.step.id, await runner.run()) }
                    }
                }
                reportProgress(started: started, tick: false)
                guard !running.isEmpty, let (stepId, result) = try await group.next() else { break }
                running.remove(stepId)
                try await finish(stepId, result)
            }
        }

        // The last snapshot names no finished step as running, whatever the throttle skipped.
        if progressPending { reportProgress(started: started, tick: true) }
        let final: RunStatus
        var reason = stopReason(stop)
        let unfinished = runbook.steps.filter { !(self.replay.steps[$0.id]?.state.isTerminal ?? false) }.map(\.id)
        if case .rollback(let why)? = stop {
            try await compensateCompleted(reason: why)
            final = .failed
        } else if case .failed? = stop {
            final = .failed
        } else if case .unknown? = stop, interruption.stage == .none {
            // Interrupted (Ctrl-C twice): the run is interrupted (exit 130) even though a step it
            // stopped while acting is now unknown; resume observes that step first.
            final = .unknown
        } else if paused {
            try await transitionRun(.pause, reason: "waiting for an approval")
            return .paused
        } else if interruption.stage != .none && !unfinished.isEmpty {
            try await transitionRun(.interrupt, reason: "interrupted by a signal")
            return .interrupted
        } else if unfinished.contains(where: { self.replay.steps[$0]?.state == .unknown }) {
            final = .unknown
        } else if !unfinished.isEmpty {
            // Nothing stopped the run, yet these never ran: never call that a success.
            final = .failed
            reason = "steps that never ran: \(unfinished.joined(separator: ", "))"
        } else {
            let degradations = self.replay.degradations(order: runbook.steps.map(\.id))
            final = degradations.isEmpty ? .succeeded : .degraded
            if !degradations.isEmpty { reason = "not every step that should have run did: " + degradations.joined(separator: "; ") }
        }
        let outputs = final == .succeeded || final == .degraded ? runOutputs() : [:]
        if !outputs.isEmpty {
            try await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .note,
                                                detail: ["event": .string("outputs"), "outputs": .map(outputs)]))
        }
        try await transitionRun(.finish(final), reason: reason)
        observer.handle(.runFinished(runId: runId, status: final, outputs: outputs))
        return final
    }

    private func stopReason(_ stop: Stop?) -> String {
        switch stop {
        case .failed(let reason)?, .rollback(let reason)?, .unknown(let reason)?: return reason
        case nil: return "all steps done"
        }
    }

    /// Before the loop of a resumed run: steps caught mid-flight by a crash go back to pending
    /// (or to unknown when an intent has no outcome: observe before acting again); failures an
    /// operator accepts now are journaled; every other failed step, and every step skipped because
    /// something it needed failed, is re-admitted — so the steps downstream of a fixed failure run.
    private func prepareForResume() async throws {
        var entries: [JournalEntry] = []
        for step in runbook.steps {
            guard let record = replay.steps[step.id] else { continue }
            switch record.state {
            case .running, .waiting:
                let target: StepStateMachine.State = record.inDoubt ? .unknown : .pending
                entries.append(stepStatusEntry(step.id, from: record.state, to: target, attempt: record.attempt,
                                               error: record.inDoubt ? "interrupted after its intent; will observe before acting" : nil))
            case .failed where toleratedAtResume.contains(step.id):
                entries.append(JournalEntry(runId: runId, at: clock.now(), kind: .note, stepId: step.id,
                                            detail: ["event": .string("tolerated"), "by": .string(configuration.operatorName),
                                                     "via": .string("--tolerate"), "error": .string(record.error ?? "")]))
            case .failed where record.toleratedBy == nil:
                entries.append(stepStatusEntry(step.id, from: .failed, to: .pending, attempt: record.attempt, error: "failed before; retried on resume"))
            case .skipped where record.skipCause == .failedNeed:
                entries.append(stepStatusEntry(step.id, from: .skipped, to: .pending, attempt: record.attempt,
                                               error: "re-admitted on resume: what it needs is retried"))
            default:
                continue
            }
        }
        guard !entries.isEmpty else { return }
        try await store.append(contentsOf: entries)
        for entry in entries { record(entry) }
    }

    /// Up to `limit` steps that may start now, in runbook order. Candidates whose needs did not
    /// all succeed are skipped, and so are those whose `when` is false (both journaled with why).
    private func nextReady(limit: Int) async throws -> [RunbookStep] {
        var ready: [RunbookStep] = []
        while ready.count < limit, stop == nil, let id = graph?.nextCandidate() {
            guard let step = stepsById[id] else { continue }
            let state = replay.steps[id]?.state ?? .pending
            guard state == .pending || state == .unknown else { continue }
            if let blocker = step.needs.first(where: { !satisfies($0) }) {
                guard state == .pending else { continue }   // an unknown step is observed, never skipped
                let blockerRecord = replay.steps[blocker]
                let cause: JournalReplay.SkipCause = blockerRecord?.state == .skipped && blockerRecord?.skipCause == .condition ? .condition : .failedNeed
                try await journalStep(id, from: .pending, to: .skipped, attempt: 0,
                                      error: "needs \(blocker), which did not succeed", cause: cause)
                continue
            }
            if let condition = step.when, state == .pending {
                let holds: Bool
                do {
                    holds = try condition.evaluate(context()).boolValue ?? false
                } catch {
                    try await failBeforeStart(step, attempt: 0, error: "when: \(error)")
                    continue
                }
                if !holds {
                    try await journalStep(id, from: .pending, to: .skipped, attempt: 0, error: "when is false", cause: .condition)
                    continue
                }
            }
            ready.append(step)
        }
        return ready
    }

    /// A need is satisfied by a success, or by a failure an operator accepted.
    private func satisfies(_ need: String) -> Bool {
        guard let record = replay.steps[need] else { return false }
        return record.state == .succeeded || (record.state == .failed && record.toleratedBy != nil)
    }

    /// Runners for the steps about to start. Their "running" entries are appended in one write, in
    /// order: twenty steps ready at once start together instead of one journal write apart.
    private func prepare(_ steps: [RunbookStep]) async throws -> [StepRunner] {
        var runners: [StepRunner] = []
        for step in steps {
            let record = replay.steps[step.id] ?? JournalReplay.StepRecord()
            guard let action = registry.action(step.call.action) else {
                try await failBeforeStart(step, attempt: record.attempt, error: "unknown action \(step.call.action)")
                continue
            }
            var arguments: [String: RunValue] = [:]
            do {
                for (key, template) in step.call.with { arguments[key] = try template.evaluate(context()) }
            } catch {
                try await failBeforeStart(step, attempt: record.attempt, error: "arguments: \(error)")
                continue
            }
            runners.append(StepRunner(runId: runId, step: step, action: action, arguments: arguments, record: record,
                                      isResume: record.state == .unknown, environment: environment, startAttempt: record.attempt + 1))
        }
        let entries = runners.map { stepStatusEntry($0.step.id, from: $0.record.state, to: .running, attempt: $0.startAttempt, error: nil) }
        try await store.append(contentsOf: entries)
        for (runner, entry) in zip(runners, entries) {
            record(entry)
            observer.handle(.stepStarted(stepId: runner.step.id, attempt: runner.startAttempt, summary: runner.action.describe(runner.arguments)))
        }
        return runners
    }

    /// A step that could not even start (its `when` or arguments could not be evaluated, its
    /// action is unknown) fails, and its failure policy applies as to any failure.
    private func failBeforeStart(_ step: RunbookStep, attempt: Int, error: String) async throws {
        let from = replay.steps[step.id]?.state ?? .pending
        try await journalStep(step.id, from: from, to: .failed, attempt: attempt, error: error)
        try await applyFailurePolicy(step, error: error)
    }

    private func finish(_ stepId: String, _ result: StepRunner.Result) async throws {
        guard let step = stepsById[stepId] else { return }
        let attempt = max(1, replay.steps[stepId]?.attempt ?? 1)
        switch result {
        case .succeeded(let outputs):
            // Outputs and status in one write: a crash cannot keep one without the other.
            let entries = [JournalEntry(runId: runId, at: clock.now(), kind: .outputs, stepId: stepId, attempt: attempt, detail: outputs),
                           stepStatusEntry(stepId, from: .running, to: .succeeded, attempt: attempt, error: nil)]
            try await store.append(contentsOf: entries)
            entries.forEach(record)
        case .failed(let error):
            try await journalStep(stepId, from: .running, to: .failed, attempt: attempt, error: error)
            try await applyFailurePolicy(step, error: error)
        case .unknown(let error):
            try await journalStep(stepId, from: .running, to: .unknown, attempt: attempt, error: error)
            if stop == nil { stop = .unknown("the outcome of step \(stepId) is unknown: \(error)") }
        case .needsApproval:
            try await journalStep(stepId, from: .running, to: .waiting, attempt: attempt, error: nil)
            paused = true
        case .interrupted:
            try await journalStep(stepId, from: .running, to: .pending, attempt: attempt, error: "interrupted")
        }
    }

    /// What a step's final failure means for the run: its `on_failure`.
    private func applyFailurePolicy(_ step: RunbookStep, error: String) async throws {
        let failure = "step \(step.id) failed: \(error)"
        switch step.onFailure {
        case .continue:
            return
        case .abort:
            if stop == nil { stop = .failed(failure) }
        case .rollback:
            if stop == nil { stop = .rollback(failure) }
        case .ask:
            let later = "to go on without it: `drctl resume \(runId) --tolerate \(step.id)`"
            guard stop == nil, interruption.stage == .none else {
                if stop == nil { stop = .failed("\(failure); \(later)") }
                return
            }
            let request = ApprovalRequest(runId: runId, stepId: step.id,
                                          summary: "\(failure). Go on as if it had been done? The steps that need it will run, and the run will end degraded.",
                                          irreversible: true, resource: step.id)
            switch await prompter.requestApproval(request) {
            case .approved(let by)?:
                let entries = [request.journalEntry(.approved(by: by), via: "terminal", at: clock.now()),
                               JournalEntry(runId: runId, at: clock.now(), kind: .note, stepId: step.id,
                                            detail: ["event": .string("tolerated"), "by": .string(by), "via": .string("terminal"),
                                                     "error": .string(error)])]
                try await store.append(contentsOf: entries)
                for entry in entries { record(entry) }
            case .denied(let by, _)?:
                stop = .failed("\(failure); \(by) chose to stop; \(later)")
            case nil:
                stop = .failed("\(failure); nobody could be asked here; \(later)")
            }
        }
    }

    // MARK: - Rollback and abort

    /// Runs the compensations of completed steps, most recently completed first.
    func compensateCompleted(reason: String) async throws {
        for stepId in replay.completedNewestFirst {
            guard let step = runbook.step(stepId), let compensation = step.compensate else { continue }
            guard let action = registry.action(compensation.action) else { continue }
            let record = replay.steps[stepId] ?? .init()
            var arguments: [String: RunValue] = [:]
            do {
                for (key, template) in compensation.with { arguments[key] = try template.evaluate(context()) }
            } catch {
                try await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .compensation, stepId: stepId,
                                                    detail: ["phase": .string("outcome"), "result": .string("failed"), "error": .string("\(error)")]))
                continue
            }
            try await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .compensation, stepId: stepId,
                                                detail: ["phase": .string("intent"), "action": .string(action.name), "reason": .string(reason),
                                                         "summary": .string(action.describe(arguments))]))
            let invocation = ActionInvocation(runId: runId, stepId: "\(stepId).compensate", attempt: 1, arguments: arguments,
                                              firstStartedAt: clock.now(), deadline: clock.now().addingTimeInterval(step.timeout ?? configuration.defaultStepTimeout),
                                              isResume: false, services: services)
            observer.handle(.stepStarted(stepId: "\(stepId).compensate", attempt: 1, summary: action.describe(arguments)))
            let started = clock.now()
            do {
                let acted = action.isMutating ? try await action.act(invocation) : [:]
                _ = try await action.verify(invocation, acted: acted)
                try await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .compensation, stepId: stepId,
                                                    detail: ["phase": .string("outcome"), "result": .string("succeeded")]))
                try await journalStep(stepId, from: .succeeded, to: .compensated, attempt: record.attempt, error: nil)
                observer.handle(.stepFinished(stepId: "\(stepId).compensate", state: .succeeded, error: nil, duration: clock.now().timeIntervalSince(started)))
            } catch {
                let message = StepRunner.classify(error, acting: true).message
                try await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .compensation, stepId: stepId,
                                                    detail: ["phase": .string("outcome"), "result": .string("failed"), "error": .string(message)]))
                observer.handle(.stepFinished(stepId: "\(stepId).compensate", state: .failed, error: message, duration: clock.now().timeIntervalSince(started)))
            }
        }
    }

    /// `drctl abort`: compensate what completed, then mark the run aborted.
    public func abort(lockScope: String, reason: String) async throws {
        if let previous = replay.runStatus { machine = RunStateMachine(state: previous) }
        try await compensateCompleted(reason: reason)
        try await transitionRun(.abort, reason: reason)
        try? await store.releaseLease(scope: lockScope, runId: runId)
        observer.handle(.runFinished(runId: runId, status: .aborted, outputs: [:]))
    }

    // MARK: - Journal helpers

    private func journalStep(_ stepId: String, from: StepStateMachine.State, to: StepStateMachine.State, attempt: Int, error: String?,
                             cause: JournalReplay.SkipCause? = nil) async throws {
        let entry = stepStatusEntry(stepId, from: from, to: to, attempt: attempt, error: error, cause: cause)
        try await store.append(entry)
        record(entry)
    }

    private func stepStatusEntry(_ stepId: String, from: StepStateMachine.State, to: StepStateMachine.State, attempt: Int,
                                 error: String?, cause: JournalReplay.SkipCause? = nil) -> JournalEntry {
        var detail: [String: RunValue] = ["from": .string(from.rawValue), "to": .string(to.rawValue)]
        if let error { detail["error"] = .string(error) }
        if let cause { detail["cause"] = .string(cause.rawValue) }
        return JournalEntry(runId: runId, at: clock.now(), kind: .stepStatus, stepId: stepId, attempt: attempt, detail: detail)
    }

    /// Folds an entry this execution has journaled into its state: the replay, what expressions
    /// see, the needs bookkeeping, and the observer (a step that reached an end).
    private func record(_ entry: JournalEntry) {
        let before = entry.stepId.flatMap { replay.steps[$0] }
        replay.apply(entry)
        guard let stepId = entry.stepId, let after = replay.steps[stepId] else { return }
        stepContext[stepId] = .init(status: after.state.rawValue, outputs: after.outputs)
        guard entry.kind == .stepStatus, before?.state != after.state else { return }
        let wasTerminal = before?.state.isTerminal ?? false
        if after.state.isTerminal && !wasTerminal {
            finishedCount += 1
            graph?.settle(stepId)
        } else if wasTerminal && !after.state.isTerminal {
            finishedCount -= 1
        }
        if after.state.isTerminal && after.state != .compensated || after.state == .unknown {
            observer.handle(.stepFinished(stepId: stepId, state: after.state, error: after.error,
                                          duration: after.endedAt.map { $0.timeIntervalSince(after.startedAt ?? $0) } ?? 0))
        }
    }

    private func transitionRun(_ event: RunStateMachine.Event, reason: String) async throws {
        let from = machine.state
        let to = try machine.handle(event)
        try await journalRun(from: from, to: to, reason: reason)
    }

    private func journalRun(from: RunStatus?, to: RunStatus, reason: String) async throws {
        var detail: [String: RunValue] = ["to": .string(to.rawValue), "reason": .string(reason)]
        if let from { detail["from"] = .string(from.rawValue) }
        let entry = JournalEntry(runId: runId, at: clock.now(), kind: .runStatus, detail: detail)
        try await store.append(entry)
        try await store.updateRun(runId, status: to, at: clock.now())
        replay.apply(entry)
    }

    // MARK: - Evaluation and progress

    private func context() -> EvaluationContext {
        EvaluationContext(inputs: inputs, steps: stepContext,
                          run: ["id": .string(runId), "name": .string(runbook.name), "operator": .string(configuration.operatorName)])
    }

    private func runOutputs() -> [String: RunValue] {
        var outputs: [String: RunValue] = [:]
        for (name, template) in runbook.outputs {
            outputs[name] = (try? template.evaluate(context())) ?? .null
        }
        return outputs
    }

    /// On a change of the running steps at most five times a second (the forecast walks the whole
    /// DAG); a change skipped by that limit is shown by the next tick. A tick shows the clock moving.
    private func reportProgress(started: Date, tick: Bool) {
        let running = runningSteps
        if tick && running.isEmpty && !progressPending { return }
        let now = clock.now()
        if !tick, let last = lastProgressAt, now.timeIntervalSince(last) < 0.2 {
            progressPending = true
            return
        }
        lastProgressAt = now
        progressPending = false
        let finished = Set(replay.steps.filter { $0.value.state.isTerminal }.map(\.key))
        let elapsed = now.timeIntervalSince(started)
        let forecast = elapsed + RTOForecast.remainingCriticalPath(steps: runbook.steps, estimates: estimates, finished: finished)
        observer.handle(.progress(ProgressSnapshot(running: running.sorted(), done: finishedCount, total: runbook.steps.count,
                                                   elapsed: elapsed, rtoBudget: runbook.budgets.rto, forecast: forecast)))
    }
}

/// `--tolerate STEP` named a step that is not a failed step of the run.
public struct ToleranceError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
