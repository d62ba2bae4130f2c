import Foundation

/// `wait`: lets time pass (e.g. for DNS TTLs to expire). Counted from the step's first start, so
/// a run resumed after a crash waits only for what is left.
public struct WaitAction: RunbookAction {
    public let name = "wait"
    public let summary = "Lets a duration pass, counted from the step's first start so a resumed run waits only for what is left."
    public let isMutating = false
    public let parameters: [ActionCatalog.Parameter] = [.init("duration", .duration, required: true)]

    public init() {}

    public func describe(_ arguments: [String: RunValue]) -> String {
        "wait \(arguments["duration"]?.description ?? "?")"
    }

    public func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        guard let seconds = try invocation.seconds("duration") else { throw ActionError.invalidArgument("duration", "a duration") }
        let end = invocation.firstStartedAt.addingTimeInterval(seconds)
        let remaining = end.timeIntervalSince(invocation.services.clock.now())
        if remaining > 0 {
            guard end <= invocation.deadline else {
                throw ActionError(.timeout, "waiting \(DurationText.format(seconds)) would pass the step's deadline")
            }
            try await invocation.services.clock.sleep(seconds: remaining)
        }
        return ["waited": .duration(seconds)]
    }
}
