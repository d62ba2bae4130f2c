import ArgumentParser
import DRCore
import Foundation

/// `drctl abort RUN`: compensates completed steps (newest first) and marks the run aborted.
struct AbortCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "abort", abstract: "Stop a run for good, running the compensations of its completed steps.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateOptions
    @OptionGroup var execution: ExecutionOptions
    @Argument(help: "Run id.") var runId: String

    func run() async throws {
        try global.bootstrapLogging()
        let store = try state.openStore()
        let record = try await store.requireRun(runId)
        try record.requireUnfinished("abort")
        if let holder = try await store.liveLeaseHolder(scope: record.lockScope, host: ThisHost.name, now: Date()),
           holder.runId == runId,
           record.status == .running {
            throw LeaseHeldError(scope: record.lockScope, holder: holder)
        }
        let runbook = try EngineSession.runbook(for: record, allowChanged: true)
        let replay = JournalReplay(entries: try await store.journal(runId: runId))
        let toUndo = replay.completedNewestFirst.filter { runbook.step($0)?.compensate != nil }
        if !execution.yes {
            guard TerminalPrompter.hasTerminal else {
                throw RunEnded(status: .usage, message: "no terminal to confirm at: pass --yes to abort \(runId)")
            }
            print("Abort run \(runId)? Compensations will run for: \(toUndo.isEmpty ? "nothing" : toUndo.joined(separator: ", ")).")
            FileHandle.standardOutput.write(Data("Type abort to confirm: ".utf8))
            guard await TerminalPrompter.readLine(interruption: InterruptionFlag())?.trimmingCharacters(in: .whitespaces) == "abort" else {
                throw RunEnded(status: .usage, message: "not aborted")
            }
        }
        let observer = RunRenderer.make(format: global.output, color: false)
        let executor = RunExecutor(runbook: runbook, run: record, journal: try await store.journal(runId: runId), environment: EngineEnvironment(
            store: store, registry: EngineSession.defaultRegistry(), configuration: execution.engineConfiguration(), prompter: NoPrompter(),
            observer: observer, services: ActionServices(transport: CurlTransport(), messages: { observer.handle(.message($0)) }),
            interruption: InterruptionFlag()))
        try await executor.abort(lockScope: record.lockScope, reason: "aborted by \(execution.resolvedOperator)")
    }
}
