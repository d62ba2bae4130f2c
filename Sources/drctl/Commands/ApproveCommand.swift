import ArgumentParser
import DRCore
import Foundation

/// `drctl approve RUN STEP`: gives the approval a paused run waits for (from any terminal),
/// journals who and what they were shown, and continues the run.
struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "approve", abstract: "Approve a step a paused run is waiting for, and continue the run.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateOptions
    @OptionGroup var execution: ExecutionOptions
    @Argument(help: "Run id.") var runId: String
    @Argument(help: "Step id.") var stepId: String
    @Flag(name: .long, help: "Only record the approval; do not continue the run here.") var noResume = false

    func run() async throws {
        try global.bootstrapLogging()
        let store = try state.openStore()
        let record = try await store.requireRun(runId)
        let runbook = try EngineSession.runbook(for: record, allowChanged: false)
        guard let step = runbook.step(stepId), step.call.action == "approve" else {
            throw RunEnded(status: .usage, message: "run \(runId) has no approval step \(stepId)")
        }
        let replay = JournalReplay(entries: try await store.journal(runId: runId))
        guard replay.steps[stepId]?.state == .waiting else {
            throw RunEnded(status: .usage, message: "step \(stepId) of run \(runId) is not waiting for an approval (it is \(replay.steps[stepId]?.state.rawValue ?? "pending"))")
        }
        // Show exactly what the run would have shown.
        var context = EvaluationContext(inputs: record.inputs, run: ["id": .string(runId), "name": .string(runbook.name)])
        for (id, step) in replay.steps { context.steps[id] = .init(status: step.state.rawValue, outputs: step.outputs) }
        var arguments: [String: RunValue] = [:]
        for (key, template) in step.call.with { arguments[key] = try? template.evaluate(context) }
        let request = ApprovalRequest(runId: runId, stepId: stepId, summary: arguments["summary"]?.description ?? step.description,
                                      irreversible: arguments["irreversible"]?.boolValue ?? false, resource: arguments["resource"]?.stringValue)
        let operatorName = execution.resolvedOperator
        let answer: ApprovalAnswer
        if execution.yes {
            answer = .approved(by: operatorName)
        } else if TerminalPrompter.hasTerminal {
            let prompter = TerminalPrompter(operatorName: operatorName, interruption: InterruptionFlag(), color: !global.noColor)
            guard let given = await prompter.requestApproval(request) else {
                throw RunEnded(status: .pausedForApproval, message: "no answer; run \(runId) stays paused")
            }
            answer = given
        } else {
            throw RunEnded(status: .usage, message: "no terminal to confirm at: pass --yes to approve \(stepId) as \(operatorName)")
        }
        try await store.append(request.journalEntry(answer, via: execution.yes ? "approve --yes" : "approve", at: Date()))
        if case .denied = answer {
            print("step \(stepId) refused; `drctl abort \(runId)` to undo what ran, or resume to fail the step")
        } else {
            print("step \(stepId) of run \(runId) approved by \(operatorName)")
        }
        if noResume { return }
        try await EngineSession(store: store, global: global, execution: execution).execute(runbook: runbook, record: record)
    }
}
