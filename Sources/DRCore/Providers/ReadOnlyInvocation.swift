import Foundation

extension ActionInvocation {
    /// Runs a read-only action once, outside any run (preflight reads, posture probes): its
    /// `verify` with the arguments given, a two-minute deadline, progress lines dropped.
    public static func readOnly(_ action: any RunbookAction, arguments: [String: RunValue], purpose: String,
                                now: Date = Date()) async -> Result<[String: RunValue], any Error> {
        let invocation = ActionInvocation(runId: purpose, stepId: action.name, attempt: 1, arguments: arguments, firstStartedAt: now,
                                          deadline: now.addingTimeInterval(120), isResume: false, services: ActionServices(messages: { _ in }))
        do {
            return .success(try await action.verify(invocation, acted: [:]))
        } catch {
            return .failure(error)
        }
    }

    /// The same for the action named `name` among a provider's `actions`; a missing one is a failure, not a trap.
    public static func readOnly(_ name: String, among actions: [any RunbookAction], arguments: [String: RunValue],
                                purpose: String) async -> Result<[String: RunValue], any Error> {
        guard let action = actions.first(where: { $0.name == name }) else {
            return .failure(ActionError(.permanent, "action \(name) is not available"))
        }
        return await readOnly(action, arguments: arguments, purpose: purpose)
    }
}
