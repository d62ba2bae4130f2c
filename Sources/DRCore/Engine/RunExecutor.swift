import Foundation

/// Executes a run: the DAG of steps with a concurrency bound, `when`, failure policies and
/// rollback, pausing for approvals and at Ctrl-C, all journaled so that `resume` — on this
/// machine or another with the same store — continues exactly where the run stopped.
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
    private var inputs: [String: RunValue]
    /// Seconds per step for the RTO forecast (the runbook's `estimate`; history p90 later).
    private let estimates: [String: Double]
    private var lastProgressAt: Date?

    /// Executes (or resumes, from `journal`) `run` of `runbook` in `environment`.
    public init(runbook: Runbook, run: RunRecord, journal: [JournalEntry], environment: EngineEnvironment) {
        self.runbook = runbook
        self.runId = run.id
        self.inputs = run.inputs
        var environment = environment
        environment.services.childRuns = ChildRunLauncher(parent: run, parentRunbookPath: runbook.source.path, environment: environment)
        self.environment = environment
        self.replay = JournalReplay(entries: journal)
        self.estimates = Dictionary(runbook.steps.map { ($0.id, $0.estimate ?? 0) }, uniquingKeysWith: { first, _ in first })
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
                try? await Task.sleep(for: .milliseconds(Int64(configuration.leaseTTL / 3 * 1000)))
                guard !Task.isCancelled else { break }
                _ = try? await store.acquireLease(scope: lockScope, holder: holder, ttl: configuration.leaseTTL, now: clock.now())
            }
        }
        defer { renewal.cancel() }

        let resumed = replay.entryCount > 0 && replay.runStatus != nil
        if let previous = replay.runStatus, previous != .running {
            machine = RunStateMachine(state: previous)
            try await transitionRun(.resume, reason: "resumed by \(configuration.operatorName) on \(configuration.host)")
        } else if replay.runStatus == nil {
            try await journalRun(from: nil, to: .running, reason: "started by \(configuration.operatorName) on \(configuration.host)")
        } else {
            // The journal says running: the process that ran it is gone (crash, kill -9).
            try await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .note,
                                                detail: ["event": .string("recovered"), "reason": .string("the previous process stopped without a final status")]))
        }
        observer.handle(.runStarted(runId: runId, runbook: runbook.name, resumed: resumed))

        let status = try await loop()
        try await store.releaseLease(scope: lockScope, runId: runId)
        return status
    }

    // MARK: - The DAG loop

    private enum Stop { case failed(String), rollback(String), unknown(String) }

    private func loop() async throws -> RunStatus {
        // Steps caught mid-flight by a crash: an intent without an outcome is in doubt (observe
        // before acting again); anything else simply starts over.
        for step in runbook.steps {
            guard let record = replay.steps[step.id] else { continue }
            if record.state == .running || record.state == .waiting {
                let target: StepStateMachine.State = record.inDoubt ? .unknown : .pending
                try await journalStep(step.id, from: record.state, to: target, attempt: record.attempt,
                                      error: record.inDoubt ? "interrupted after its intent; will observe before acting" : nil)
            }
        }

        var stop: Stop?
        var paused = false
        var running: Set<String> = []
        let started = replay.startedAt ?? clock.now()

        try await withThrowingTaskGroup(of: (String, StepRunner.Result).self) { group in
            while true {
                let stopLaunching = stop != nil || paused || interruption.stage != .none
                if !stopLaunching {
                    // Wave by wave: a step that fails before it starts (unknown action, bad
                    // arguments) frees its slot for the next ready step.
                    var ready = try await readySteps(excluding: running)[...]
                    while running.count < configuration.concurrency, !ready.isEmpty {
                        let wave = Array(ready.prefix(configuration.concurrency - running.count))
                        ready = ready.dropFirst(wave.count)
                        for runner in try await prepare(wave) {
                            running.insert(runner.step.id)
                            group.addTask { (runner.step.id, await runner.run()) }
                        }
                    }
                }
                reportProgress(running: running, started: started)
                guard !running.isEmpty, let (stepId, result) = try await group.next() else { break }
                running.remove(stepId)
                switch try await finish(stepId, result) {
                case .none: break
                case .pause: paused = true
                case .stop(let reason): if stop == nil { stop = reason }
                }
            }
        }

        let final: RunStatus
        if case .rollback(let reason)? = stop {
            try await compensateCompleted(reason: reason)
            final = .failed
        } else if case .failed? = stop {
            final = .failed
        } else if case .unknown? = stop {
            final = .unknown
        } else if paused {
            try await transitionRun(.pause, reason: "waiting for an approval")
            return .paused
        } else if interruption.stage != .none {
            try await transitionRun(.interrupt, reason: "interrupted by a signal")
            return .interrupted
        } else if runbook.steps.contains(where: { replay.steps[$0.id]?.state == .unknown }) {
            final = .unknown
        } else {
            final = .succeeded
        }
        let outputs = final == .succeeded ? runOutputs() : [:]
        if !outputs.isEmpty {
            try await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .note,
                                                detail: ["event": .string("outputs"), "outputs": .map(outputs)]))
        }
        try await transitionRun(.finish(final), reason: stopReason(stop))
        observer.handle(.runFinished(runId: runId, status: final, outputs: outputs))
        return final
    }

    private func stopReason(_ stop: Stop?) -> String {
        switch stop {
        case .failed(let reason)?, .rollback(let reason)?, .unknown(let reason)?: return reason
        case nil: return "all steps done"
        }
    }

    /// Pending (or resumable) steps whose `needs` are all finished. A step whose need did not
    /// succeed is skipped (journaled with the reason); so is one whose `when` is false.
    private func readySteps(excluding running: Set<String>) async throws -> [RunbookStep] {
        var ready: [RunbookStep] = []
        var changed = true
        while changed {
            changed = false
            for step in runbook.steps where !running.contains(step.id) && !ready.contains(where: { $0.id == step.id }) {
                let state = replay.steps[step.id]?.state ?? .pending
                guard state == .pending || state == .unknown || (state == .failed && resumingFailed) else { continue }
                let needs = step.needs.map { replay.steps[$0]?.state ?? .pending }
                guard needs.allSatisfy(\.isTerminal) else { continue }
                if let blocker = step.needs.first(where: { replay.steps[$0]?.state != .succeeded }) {
                    guard state == .pending else { continue }
                    try await journalStep(step.id, from: .pending, to: .skipped, attempt: 0, error: "needs \(blocker), which did not succeed")
                    changed = true
                    continue
                }
                if let condition = step.when, state == .pending {
                    let holds: Bool
                    do {
                        holds = try condition.evaluate(context()).boolValue ?? false
                    } catch {
                        try await journalStep(step.id, from: .pending, to: .failed, attempt: 0, error: "when: \(error)")
                        changed = true
                        continue
                    }
                    if !holds {
                        try await journalStep(step.id, from: .pending, to: .skipped, attempt: 0, error: "when is false")
                        changed = true
                        continue
                    }
                }
                ready.append(step)
            }
        }
        return ready
    }

    private var resumingFailed = false

    /// Runners for the steps about to start. Their "running" entries are appended in one write, in
    /// order: twenty steps ready at once start together instead of one journal write apart.
    private func prepare(_ steps: [RunbookStep]) async throws -> [StepRunner] {
        var runners: [StepRunner] = []
        for step in steps {
            let record = replay.steps[step.id] ?? JournalReplay.StepRecord()
            guard let action = registry.action(step.call.action) else {
                try await journalStep(step.id, from: record.state, to: .failed, attempt: record.attempt, error: "unknown action \(step.call.action)")
                continue
            }
            var arguments: [String: RunValue] = [:]
            do {
                for (key, template) in step.call.with { arguments[key] = try template.evaluate(context()) }
            } catch {
                try await journalStep(step.id, from: record.state, to: .failed, attempt: record.attempt, error: "arguments: \(error)")
                continue
            }
            runners.append(StepRunner(runId: runId, step: step, action: action, arguments: arguments, record: record,
                                      isResume: record.state == .unknown, environment: environment, startAttempt: record.attempt + 1))
        }
        let entries = runners.map { stepStatusEntry($0.step.id, from: $0.record.state, to: .running, attempt: $0.startAttempt, error: nil) }
        try await store.append(contentsOf: entries)
        for (runner, entry) in zip(runners, entries) {
            applyStepStatus(entry)
            observer.handle(.stepStarted(stepId: runner.step.id, attempt: runner.startAttempt, summary: runner.action.describe(runner.arguments)))
        }
        return runners
    }

    private enum Consequence { case none, pause, stop(Stop) }

    private func finish(_ stepId: String, _ result: StepRunner.Result) async throws -> Consequence {
        guard let step = runbook.step(stepId) else { return .none }
        let attempt = max(1, replay.steps[stepId]?.attempt ?? 1)
        switch result {
        case .succeeded(let outputs):
            try await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .outputs, stepId: stepId, attempt: attempt, detail: outputs))
            replay.steps[stepId, default: .init()].outputs = outputs
            try await journalStep(stepId, from: .running, to: .succeeded, attempt: attempt, error: nil)
            return .none
        case .failed(let error):
            try await journalStep(stepId, from: .running, to: .failed, attempt: attempt, error: error)
            switch step.onFailure {
            case .continue: return .none
            case .abort: return .stop(.failed("step \(stepId) failed: \(error)"))
            case .rollback: return .stop(.rollback("step \(stepId) failed: \(error)"))
            }
        case .unknown(let error):
            try await journalStep(stepId, from: .running, to: .unknown, attempt: attempt, error: error)
            return .stop(.unknown("the outcome of step \(stepId) is unknown: \(error)"))
        case .needsApproval:
            try await journalStep(stepId, from: .running, to: .waiting, attempt: attempt, error: nil)
            return .pause
        case .interrupted:
            try await journalStep(stepId, from: .running, to: .pending, attempt: attempt, error: "interrupted")
            return .none
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

    /// Lets `resume` retry the failed steps of a failed run.
    public func retryFailedSteps() { resumingFailed = true }

    // MARK: - Journal helpers

    private func journalStep(_ stepId: String, from: StepStateMachine.State, to: StepStateMachine.State, attempt: Int, error: String?) async throws {
        let entry = stepStatusEntry(stepId, from: from, to: to, attempt: attempt, error: error)
        try await store.append(entry)
        applyStepStatus(entry)
    }

    private func stepStatusEntry(_ stepId: String, from: StepStateMachine.State, to: StepStateMachine.State, attempt: Int,
                                 error: String?) -> JournalEntry {
        var detail: [String: RunValue] = ["from": .string(from.rawValue), "to": .string(to.rawValue)]
        if let error { detail["error"] = .string(error) }
        return JournalEntry(runId: runId, at: clock.now(), kind: .stepStatus, stepId: stepId, attempt: attempt, detail: detail)
    }

    /// The replayed state after a step-status entry (from `stepStatusEntry`) has been journaled.
    private func applyStepStatus(_ entry: JournalEntry) {
        guard let stepId = entry.stepId, let to = entry.detail["to"]?.stringValue.flatMap(StepStateMachine.State.init(rawValue:)) else { return }
        let attempt = entry.attempt ?? 0, error = entry.detail["error"]?.stringValue
        var record = replay.steps[stepId] ?? .init()
        record.state = to
        record.attempt = max(record.attempt, attempt)
        if to == .running {
            record.firstStartedAt = record.firstStartedAt ?? entry.at
            record.startedAt = record.startedAt ?? entry.at
        }
        if to.isTerminal || to == .unknown {
            record.endedAt = entry.at
            record.error = error
            if to == .succeeded {
                record.completionOrder = (replay.steps.values.compactMap(\.completionOrder).max() ?? 0) + 1
            }
        }
        if to == .compensated { record.compensated = true }
        replay.steps[stepId] = record
        if to.isTerminal || to == .unknown {
            observer.handle(.stepFinished(stepId: stepId, state: to, error: error,
                                          duration: record.endedAt.map { $0.timeIntervalSince(record.startedAt ?? $0) } ?? 0))
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
        try await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .runStatus, detail: detail))
        try await store.updateRun(runId, status: to, at: clock.now())
        replay.runStatus = to
    }

    // MARK: - Evaluation and progress

    private func context() -> EvaluationContext {
        var steps: [String: EvaluationContext.StepState] = [:]
        for (id, record) in replay.steps { steps[id] = .init(status: record.state.rawValue, outputs: record.outputs) }
        return EvaluationContext(inputs: inputs, steps: steps,
                                 run: ["id": .string(runId), "name": .string(runbook.name), "operator": .string(configuration.operatorName)])
    }

    private func runOutputs() -> [String: RunValue] {
        var outputs: [String: RunValue] = [:]
        for (name, template) in runbook.outputs {
            outputs[name] = (try? template.evaluate(context())) ?? .null
        }
        return outputs
    }

    /// At most five times a second: the forecast walks the whole DAG.
    private func reportProgress(running: Set<String>, started: Date) {
        let now = clock.now()
        if let last = lastProgressAt, now.timeIntervalSince(last) < 0.2 { return }
        lastProgressAt = now
        let finished = Set(replay.steps.filter { $0.value.state.isTerminal }.map(\.key))
        let elapsed = now.timeIntervalSince(started)
        let forecast = elapsed + RTOForecast.remainingCriticalPath(steps: runbook.steps, estimates: estimates, finished: finished)
        observer.handle(.progress(ProgressSnapshot(running: running.sorted(), done: finished.count, total: runbook.steps.count,
                                                   elapsed: elapsed, rtoBudget: runbook.budgets.rto, forecast: forecast)))
    }
}
