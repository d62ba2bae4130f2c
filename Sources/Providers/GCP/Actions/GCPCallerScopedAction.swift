import DRCore
import Foundation

/// Every `gcp.*` action as registered: the action itself, plus the caller arguments
/// (`quota_project`, `impersonate_service_account`) bound to `GCPCaller.current` around each of its
/// parts. Wrapping at registration keeps an action from forgetting them: its service clients'
/// calls pick the caller up from the task (`GCPClientSource.client()`).
struct GCPCallerScopedAction: RunbookAction {
    let inner: any RunbookAction

    init(_ inner: any RunbookAction) { self.inner = inner }

    var name: String { inner.name }
    var isMutating: Bool { inner.isMutating }
    var parameters: [ActionCatalog.Parameter] { inner.parameters + GCPCaller.parameters }
    var summary: String { inner.summary }
    var permissions: [ActionPermission] { inner.permissions }

    func describe(_ arguments: [String: RunValue]) -> String {
        let caller = (try? GCPCaller(arguments, base: GCPCaller()))?.description ?? ""
        return inner.describe(arguments) + (caller.isEmpty ? "" : " (\(caller))")
    }

    func canObserve(_ arguments: [String: RunValue]) -> Bool { inner.canObserve(arguments) }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        try await GCPCaller.$current.withValue(caller(invocation)) { try await inner.observe(invocation) }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        try await GCPCaller.$current.withValue(caller(invocation)) { try await inner.act(invocation) }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        try await GCPCaller.$current.withValue(caller(invocation)) { try await inner.verify(invocation, acted: acted) }
    }

    func settleInDoubt(_ invocation: ActionInvocation) async throws -> String? {
        try await GCPCaller.$current.withValue(caller(invocation)) { try await inner.settleInDoubt(invocation) }
    }

    private func caller(_ invocation: ActionInvocation) throws -> GCPCaller {
        try GCPCaller(invocation.arguments, base: GCPCaller.current)
    }
}
