/// `approve`: a human decision point. The executor obtains the approval (typed confirmation in a
/// terminal, `--yes`, or `drctl approve RUN STEP`) and journals who approved and what they were
/// shown; it then passes the approver here, and the step's outputs record it.
public struct ApproveAction: RunbookAction {
    public let name = "approve"
    public let summary = "Pauses the run until a human approves the step (typed confirmation, --yes, or drctl approve RUN STEP) and records who approved what."
    public let isMutating = false
    public let parameters: [ActionCatalog.Parameter] = [.init("summary", .string, required: true), .init("irreversible", .bool), .init("resource", .string)]
    /// Argument the executor adds once the approval is journaled.
    public static let approverArgument = "__approved_by"

    public init() {}

    public func describe(_ arguments: [String: RunValue]) -> String {
        var text = "approval: \(arguments["summary"]?.description ?? "")"
        if arguments["irreversible"]?.boolValue == true { text += " (irreversible; type \(arguments["resource"]?.description ?? "the resource name") to confirm)" }
        return text
    }

    public func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        guard case .string(let approver)? = invocation.arguments[Self.approverArgument] else {
            throw ActionError(.permanent, "step \(invocation.stepId) was not approved")
        }
        return ["approved_by": .string(approver)]
    }
}
