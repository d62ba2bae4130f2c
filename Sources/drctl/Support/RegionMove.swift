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
        let file = options.runbook ?? plan.runbookFile(for: kind, to: to)   // nil: generated
        if options.printRunbook {
            let prepared = file == nil ? try await MovePreflight.prepare(move, plan: plan, providers: providers).plan : plan
            print(try loadRunbook(prepared, move: move, file: file, providers: providers, registry: registry).text, terminator: "")
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
        // What providers look up before a runbook can be written goes out with the preflight's
        // reads: the same round trip. A runbook file names its own (nothing to look up).
        async let preparedPlan = Result.catching { file == nil ? try await MovePreflight.prepare(move, plan: plan, providers: providers) : (plan, []) }
        var report = await MovePreflight.run(move, plan: plan, providers: providers)
        let prepared: DRPlan
        do {
            let warnings: [PreflightCheck]
            (prepared, warnings) = try await preparedPlan.get()
            report.checks += warnings
        } catch {
            // What was checked, before the error that stops the move.
            MoveOutput.preflight(report, plan: plan, kind: kind, from: from.description, to: to.description, format: format)
            throw error
        }
        let (runbook, text, path) = try loadRunbook(prepared, move: move, file: file, providers: providers, registry: registry)
        MoveOutput.preflight(report, plan: plan, kind: kind, from: from.description, to: to.description, format: format)
        guard let history else {
            try MoveOutput.dryRun(PlanCommand.make(runbook, inputs: [:], registry: registry), format: format)
            // A dry run whose preflight would stop the move says so in its exit code, as the move would.
            if case .blocked(let message) = RPOGate.judge(report, kind: kind, budget: plan.budgets.rpo ?? 3600, acceptedLoss: acceptedLoss,
                                                          by: options.execution.resolvedOperator) {
                throw RunEnded(status: .runFailed, message: message)
            }
            return
        }
        let acceptance = try gate(report, budget: plan.budgets.rpo ?? 3600)
        try await confirm(to: to.description, format: format)

        let store = history.store
        let now = Date()
        var execution = options.execution
        execution.yes = true   // confirmed above (typed, or --yes): the runbook's approvals are given
        if execution.concurrency == 4 { execution.concurrency = 32 }   // fan out over every resource of the plan
        let record = RunRecord(id: RunIdentifier.make(now: now), runbookName: runbook.name, runbookPath: path,
                               runbookDigest: runbook.source.digest, runbookText: text, inputs: [:], status: .running,
                               createdAt: now, updatedAt: now, startedBy: execution.resolvedOperator,
                               host: ThisHost.name, mode: kind.rawValue, lockScope: scope)
        for abandoned in options.abandon {
            try await history.abandon(abandoned, by: execution.resolvedOperator,
                                      reason: "a new \(kind.rawValue) of plan \(plan.name) to \(to) starts instead (\(record.id))")
        }
        let session = EngineSession(store: store, global: options.global, execution: execution, registry: registry)
        try await session.begin(record)
        // The budgets go with the preflight: the summary (also `resume`'s) reads them from the journal.
        var preflightNote = report.journalDetail(plan: plan, from: from, to: to)
        preflightNote["rpo_budget"] = plan.budgets.rpo.map { .duration($0) } ?? .null
        preflightNote["rto_budget"] = plan.budgets.rto.map { .duration($0) } ?? .null
        try await store.append(JournalEntry(runId: record.id, at: now, kind: .note, detail: preflightNote))
        if let acceptance {
            try await store.append(JournalEntry(runId: record.id, at: now, kind: .note, detail: acceptance))
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

    private func loadRunbook(_ plan: DRPlan, move: Move, file: String?, providers: [any DRProvider],
                             registry: ActionRegistry) throws -> (runbook: Runbook, text: String, path: String) {
        if let file {
            let runbook = try RunbookLoader.load(path: file, catalog: registry.catalog)
            return (runbook, (try? String(contentsOfFile: file, encoding: .utf8)) ?? "", URL(fileURLWithPath: file).standardizedFileURL.path)
        }
        // A plan error, located in the plan (the composer's own refusal names no place).
        if let nothing = plan.nothingToMove(from: move.from, to: move.to) { throw nothing }
        let composed: Runbook
        do {
            composed = try MoveComposer(providers: providers).runbook(plan: plan, move: move, catalog: registry.catalog)
        } catch {
            throw RunEnded(status: .invalidRunbook, message: "\(error)")
        }
        let (text, runbook) = RunbookRenderer.pinned(composed, path: composed.source.path)
        return (runbook, text, runbook.source.path)
    }

    /// The RPO gate (`RPOGate`): returns the acceptance to journal, or ends the command.
    private func gate(_ report: MovePreflight.Report, budget: Double) throws -> [String: RunValue]? {
        switch RPOGate.judge(report, kind: kind, budget: budget, acceptedLoss: acceptedLoss, by: options.execution.resolvedOperator) {
        case .proceed: return nil
        case .accepted(let note): return note
        case .blocked(let message): throw RunEnded(status: .runFailed, message: message)
        case .refused(let message): throw RunEnded(status: .refusedByBudget, message: message)
        }
    }
}
