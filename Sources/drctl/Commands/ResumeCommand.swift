import ArgumentParser
import DRCore
import Foundation

/// `drctl resume RUN`: continues a paused, interrupted, crashed, unknown or failed run. Steps in
/// doubt are observed before anything acts again.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Continue a run where it stopped (re-observing anything in doubt).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateOptions
    @OptionGroup var execution: ExecutionOptions
    @Argument(help: "Run id.") var runId: String
    @Flag(name: .long, help: "Resume even though the runbook file changed since the run started.") var allowChanged = false
    @Option(name: .long, parsing: .singleValue,
            help: "Accept the failure of this failed step and let the steps that need it run; journaled, and the run ends degraded (repeatable).")
    var tolerate: [String] = []
    @Option(name: .customLong("rerun-unknown"), help: ArgumentHelp("Allow this in-doubt step to act again although drctl cannot observe whether it already took effect (an exec step without observe; repeatable; journaled).", valueName: "step"))
    var rerunUnknown: [String] = []

    func run() async throws {
        try global.bootstrapLogging()
        let store = try state.openStore()
        let record = try await store.requireRun(runId)
        if record.status == .succeeded || record.status == .aborted {
            // A process stopped after recording the end but before giving the lease back.
            try? await store.releaseLease(scope: record.lockScope, runId: record.id)
            if Self.isMove(record), record.status == .succeeded {
                // Nothing to continue, but a move killed around its summary still owes it: print it
                // (journaling it if it never was) and end as the move ended.
                let runbook = try EngineSession.runbook(for: record, allowChanged: true)
                try await MoveSummary.conclude(store: store, record: record, runbook: runbook, format: global.output, onlyIfMissing: true)
                try await EngineSession(store: store, global: global, execution: execution).finish(record.status, record: record)
            }
        }
        try record.requireUnfinished("resume")
        let runbook = try EngineSession.runbook(for: record, allowChanged: allowChanged)
        for stepId in rerunUnknown where runbook.step(stepId) == nil {
            throw RunEnded(status: .usage, message: "--rerun-unknown \(stepId): runbook \(runbook.name) has no step \(stepId)")
        }
        var session = EngineSession(store: store, global: global, execution: execution)
        session.rerunUnknown = Set(rerunUnknown)
        switch record.mode {
        case "drill":
            // A drill also journals its validation and RPO notes and prints its summary once it stops.
            let status = try await session.run(runbook: runbook, record: record, tolerate: Set(tolerate))
            try await DrillSummary.conclude(store: store, runId: record.id, format: global.output)
            try await session.finish(status, record: record)
        case _ where Self.isMove(record):
            // A move ends with the same summary (journaled again) as if it had not been interrupted.
            let status = try await session.run(runbook: runbook, record: record, tolerate: Set(tolerate))
            try await MoveSummary.conclude(store: store, record: record, runbook: runbook, format: global.output)
            try await session.finish(status, record: record)
        default:
            try await session.execute(runbook: runbook, record: record, tolerate: Set(tolerate))
        }
    }

    static func isMove(_ record: RunRecord) -> Bool {
        [Move.Kind.failover.rawValue, Move.Kind.switchover.rawValue].contains(record.mode)
    }
}
