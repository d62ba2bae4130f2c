import ArgumentParser
import DRCore
import Foundation

/// `drctl run RUNBOOK`: validates, journals a new run, then executes it.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a runbook (durable: resume it after any interruption).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateOptions
    @OptionGroup var execution: ExecutionOptions
    @Argument(help: "Runbook file.") var file: String
    @Option(name: .customLong("input"), help: "An input, name=value (repeatable).") var inputs: [String] = []
    @Option(name: .long, help: "Lock scope: runs with the same scope never overlap (default: the runbook's name).") var lock: String?

    func run() async throws {
        try global.bootstrapLogging()
        let registry = EngineSession.defaultRegistry()
        let runbook = try RunbookLoader.load(path: file, catalog: registry.catalog)
        let values = try InputParser.parse(inputs, for: runbook)
        let store = try state.openStore()
        let session = EngineSession(store: store, global: global, execution: execution, registry: registry)

        // Anything that changes the world is confirmed at a terminal unless --yes.
        let mutating = runbook.steps.filter { registry.action($0.call.action)?.isMutating ?? true }
        if !mutating.isEmpty && !execution.yes && TerminalPrompter.hasTerminal {
            print("\(runbook.name) will change things in \(mutating.count) step(s): \(mutating.map(\.id).joined(separator: ", ")).")
            // One unbuffered write: a `print` without a newline would stay buffered and show after the prompt.
            OutputLock.shared.write("Run `drctl plan \(file)` to see each call. Type yes to start: ")
            let answer = await TerminalPrompter.readLine(interruption: InterruptionFlag())
            guard answer?.trimmingCharacters(in: .whitespaces) == "yes" else {
                throw RunEnded(status: .usage, message: "not started: confirmation not given")
            }
        }

        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        let now = Date()
        let record = RunRecord(id: RunIdentifier.make(now: now), runbookName: runbook.name,
                               runbookPath: URL(fileURLWithPath: file).standardizedFileURL.path, runbookDigest: runbook.source.digest,
                               runbookText: text, inputs: values, status: .running, createdAt: now, updatedAt: now,
                               startedBy: execution.resolvedOperator, host: ThisHost.name, mode: "run",
                               lockScope: lock ?? runbook.name)
        try await session.begin(record)
        if global.output == .text { OutputLock.shared.write("run \(record.id)\n") }
        try await session.execute(runbook: runbook, record: record)
    }
}
