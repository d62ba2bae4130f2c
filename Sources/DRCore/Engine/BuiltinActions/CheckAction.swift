/// `check`: asserts a condition over inputs and earlier steps' outputs; the run fails (by the
/// step's `on_failure`) when it does not hold.
public struct CheckAction: RunbookAction {
    public let name = "check"
    public let summary = "Fails the step, with a message, unless a condition is true."
    public let isMutating = false
    public let parameters: [ActionCatalog.Parameter] = [.init("that", .bool, required: true), .init("message", .string)]

    public init() {}

    public func describe(_ arguments: [String: RunValue]) -> String {
        "check \(arguments["message"]?.description ?? "condition")"
    }

    public func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        guard case .bool(let holds)? = invocation.arguments["that"] else {
            throw ActionError.invalidArgument("that", "a boolean expression")
        }
        guard holds else {
            let message = invocation.arguments["message"]?.stringValue ?? "condition does not hold"
            throw ActionError(.permanent, "check failed: \(message)")
        }
        return ["passed": .bool(true)]
    }
}
