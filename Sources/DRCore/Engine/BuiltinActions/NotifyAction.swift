import Foundation

/// `notify`: a message to the operator's stream, or a JSON POST (`{"text": …}`, as Slack and
/// most chat webhooks accept) to a webhook through the shared transport.
public struct NotifyAction: RunbookAction {
    public let name = "notify"
    public let summary = "Posts a message to a webhook, or prints it when no webhook is given."
    public let isMutating = true
    public let parameters: [ActionCatalog.Parameter] = [.init("message", .string, required: true), .init("webhook", .string)]

    public init() {}

    public func describe(_ arguments: [String: RunValue]) -> String {
        if case .string(let url)? = arguments["webhook"] { return "POST a message to \(RedactedURL.describe(url))" }
        return "print a message"
    }

    public func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let message = try invocation.string("message")
        guard case .string(let webhook)? = invocation.arguments["webhook"] else {
            invocation.services.messages(message)
            return [:]
        }
        guard let transport = invocation.services.transport else { throw ActionError(.permanent, "no HTTP transport for notify") }
        let body = try JSONSerialization.data(withJSONObject: ["text": message, "run": invocation.runId, "step": invocation.stepId],
                                              options: [.sortedKeys])
        let response: HTTPResponse
        do {
            response = try await transport.send(HTTPRequest(method: "POST", url: webhook, headers: ["Content-Type": "application/json"],
                                                            body: Array(body), timeouts: HTTPTimeouts(connect: .seconds(5), total: .seconds(15))))
        } catch let error as TransportError {
            throw ActionError(error.isRetryable ? .transient : .permanent, "notify: \(error)")
        }
        guard (200..<300).contains(response.status) else {
            let kind: ActionError.Kind = response.status == 429 ? .throttling : (response.status >= 500 ? .transient : .permanent)
            throw ActionError(kind, "notify: webhook \(RedactedURL.describe(webhook)) answered HTTP \(response.status)")
        }
        return ["status": .int(response.status)]
    }

    public func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        ["sent": .bool(true)].merging(acted) { $1 }
    }
}
