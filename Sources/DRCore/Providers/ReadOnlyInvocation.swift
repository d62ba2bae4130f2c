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
}
