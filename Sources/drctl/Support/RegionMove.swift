import AWSProvider
import ArgumentParser
import DRCore
import Foundation

/// What `failover` and `switchover` share: plan, preflight, gate, confirmation, run, summary.
struct RegionMove {
    let options: RegionMoveOptions
    let kind: Move.Kind
    /// `--accept-data-loss`, in seconds.
    let acceptedLoss: Double?

    func perform() async throws {
        try options.global.bootstrapLogging()
        let format = options.global.output
        let plan = try DRPlanLoader.load(path: options.planPath, sections: ProviderRegistration.sections)
        let move: Move
        do { move = try plan.move(kind, to: options.to, from: options.from) } catch { throw ValidationError(error.message) }
        let (from, to) = (move.from, move.to)

        let context = ProviderContext(aws: try AWSContext(options: options.aws))
        let providers = ProviderRegistration.providers(context)
        let registry = EngineSession.registry(for: providers)
        if options.printRunbook {
            print(try await MovePlanner.preparedRunbook(move, plan: plan, file: options.runbook, providers: providers, catalog: registry.catalog).text,
                  terminator: "")
            return
        }
        // Before reading the cloud: an unfinished move of this plan is resumed, not started over,
        // and a plan already active in `to` has nothing to do. A dry run changes nothing either way.
        let scope = "plan:\(plan.name)"
        var history: MoveHistory?
        if !options.dryRun {
            let moves = MoveHistory(store: try options.state.openStore(), scope: scope)
            if case .alreadyThere(let last) = try await moves.check(to: to.description, abandoning: Set(options.abandon)) {
                try MoveOutput.nothingToDo(plan: plan, to: to.description, last: last, format: format)
                return
            }
            history = moves
        }
        let assessment = await MovePlanner.assess(move, plan: plan, file: options.runbook, providers: providers, catalog: registry.catalog)
        let report = assessment.report
        // What was checked is shown before an error that stops the move.
        MoveOutput.preflight(report, plan: plan, kind: kind, from: from.description, to: to.description, format: format)
        let chosen = try assessment.runbook.get()
        let runbook = chosen.runbook
        let verdict = RPOGate.judge(report, kind: kind, budget: MovePlanner.rpoBudget(plan), acceptedLoss: acceptedLoss,
                                    by: options.execution.resolvedOperator)
        guard let history else {
            try MoveOutput.dryRun(PlanCommand.make(runbook, inputs: [:], registry: registry), format: format)
            // A dry run whose preflight would stop the move says so in its exit code, as the move would.
            if case .blocked(let message) = verdict { throw RunEnded(status: .runFailed, message: message) }
            return
        }
        let acceptance: [String: RunValue]?
        switch verdict {
        case .proceed: acceptance = nil
        case .accepted(let note): acceptance = note
        case .blocked(let message): throw RunEnded(status: .runFailed, message: message)
        case .refused(let message): throw RunEnded(status: .refusedByBudget, message: message)
        }
        try await confirm(to: to.description, format: format)

        let store = history.store
        let now = Date()
        var execution = options.execution
        execution.yes = true   // confirmed above (typed, or --yes): the runbook's approvals are given
        if execution.concurrency == 4 { execution.concurrency = 32 }   // fan out over every resource of the plan
        let record = RunRecord(id: RunIdentifier.make(now: now), runbookName: runbook.name, runbookPath: chosen.path,
                               runbookDigest: runbook.source.digest, runbookText: chosen.text, inputs: [:], status: .running,
                               createdAt: now, updatedAt: now, startedBy: execution.resolvedOperator,
                               host: ThisHost.name, mode: kind.rawValue, lockScope: scope)
        for abandoned in options.abandon {
            try await history.abandon(abandoned, by: execution.resolvedOperator,
                                      reason: "a new \(kind.rawValue) of plan \(plan.name) to \(to) starts instead (\(record.id))")
        }
        let session = EngineSession(store: store, global: options.global, execution: execution, registry: registry)
        try await session.begin(record)
        for note in MovePlanner.startNotes(report, move: move, plan: plan, acceptance: acceptance) {
            try await store.append(JournalEntry(runId: record.id, at: now, kind: .note, detail: note))
        }
        if format == .text { OutputLock.shared.write("run \(record.id) (\(kind.rawValue) of \(plan.name) to \(to))\n") }
        let status = try await session.run(runbook: runbook, record: record)
        try await MoveSummary.conclude(store: store, record: record, runbook: runbook, format: format)
        try await session.finish(status, record: record)
    }

    /// Anything irreversible is confirmed by typing the target region, unless --yes. With
    /// `--output json` the prompt goes to stderr: stdout stays JSON Lines.
    private func confirm(to: String, format: OutputFormat) async throws {
        guard !options.execution.yes else { return }
        guard TerminalPrompter.hasTerminal else {
            throw RunEnded(status: .usage, message: "\(kind.rawValue) changes production: pass --yes when there is no terminal to confirm at")
        }
        let prompt = format == .json ? FileHandle.standardError : FileHandle.standardOutput
        prompt.write(Data("\nThis \(kind.rawValue) will promote replicas in \(to), move traffic there and scale it up. It cannot be undone by drctl.\n".utf8))
        prompt.write(Data("Type \(to) to proceed: ".utf8))
        guard await TerminalPrompter.readLine(interruption: InterruptionFlag())?.trimmingCharacters(in: .whitespaces) == to else {
            throw RunEnded(status: .usage, message: "not started: confirmation not given")
        }
    }
}
