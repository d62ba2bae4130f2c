/// `run`: runs another runbook as a child run (its own journal, id `PARENT.STEP`) and exposes its
/// outputs as the step's outputs. A resumed parent resumes the child; a finished child is not
/// run again.
public struct RunChildAction: RunbookAction {
    public let name = "run"
    public let summary = "Runs another runbook as a child run with its own journal, and outputs what it produced."
    public let isMutating = true
    public let parameters: [ActionCatalog.Parameter] = [.init("runbook", .string, required: true), .init("inputs", .map)]

    public init() {}

    public func describe(_ arguments: [String: RunValue]) -> String {
        "run the runbook \(arguments["runbook"]?.description ?? "?") as a child run"
    }

    public func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        guard let launcher = invocation.services.childRuns,
              let child = try await launcher.existing(step: invocation.stepId), child.status == .succeeded else { return nil }
        return child.outputs.merging(["run_id": .string(child.runId)]) { $1 }
    }

    public func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        guard let launcher = invocation.services.childRuns else {
            throw ActionError(.permanent, "child runs are not available here")
        }
        var inputs: [String: RunValue] = [:]
        if case .map(let given)? = invocation.arguments["inputs"] { inputs = given }
        let child = try await launcher.run(step: invocation.stepId, runbookPath: try invocation.string("runbook"), inputs: inputs)
        switch child.status {
        case .succeeded:
            return child.outputs.merging(["run_id": .string(child.runId)]) { $1 }
        case .degraded:
            // The parent cannot be a full success on a child that was not one.
            return child.outputs.merging(["run_id": .string(child.runId),
                                          JournalReplay.degradedOutput: .string("child run \(child.runId) ended degraded")]) { $1 }
        case .paused:
            throw ActionError(.permanent, "child run \(child.runId) is paused for an approval: approve it (drctl approve \(child.runId) STEP --no-resume), then resume this run")
        case .unknown:
            throw ActionError(.outcomeUnknown, "child run \(child.runId) has a step whose outcome is unknown")
        default:
            throw ActionError(.permanent, "child run \(child.runId) ended \(child.status.rawValue)")
        }
    }

    public func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        if !acted.isEmpty { return acted }
        return try await observe(invocation) ?? [:]
    }
}
