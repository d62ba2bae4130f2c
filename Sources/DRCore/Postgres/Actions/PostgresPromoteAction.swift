import Foundation

/// `postgres.promote`: turns a streaming standby into a primary with `pg_promote(true, wait)`
/// (https://www.postgresql.org/docs/15/functions-admin.html#FUNCTIONS-RECOVERY-CONTROL) and waits
/// until it accepts a write.
/// - observe: `pg_is_in_recovery()` is false → already promoted (a resumed run does not promote twice);
/// - act: `pg_promote(true, wait_seconds)`;
/// - verify: the write probe succeeds (through `Waiter`).
/// Outputs `timeline_id` and `recovery_end_lsn` (where the new timeline forked), which a later
/// failback check compares with the old primary's position.
public struct PostgresPromoteAction: RunbookAction {
    public let name = "postgres.promote"
    public let summary = "Promotes a PostgreSQL streaming standby to primary with pg_promote() and waits until it accepts a write."
    public let permissions: [ActionPermission] = [
        .postgres("EXECUTE on pg_promote(boolean, integer) (superuser only unless granted)"),
        .postgres("TEMPORARY on the database (the write probe creates a temporary table in a rolled-back transaction)"),
    ]
    public let isMutating = true
    public let parameters: [ActionCatalog.Parameter] = PostgresActionTarget.parameters("url") + [.init("wait_seconds", .int)]

    public init() {}

    public func describe(_ arguments: [String: RunValue]) -> String {
        "promote the PostgreSQL standby \(PostgresActionTarget.describe("url", arguments)) to primary (pg_promote)"
    }

    public func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let target = try PostgresActionTarget.resolve("url", in: invocation.arguments)
        let position = try await target.with { try await TimelinePosition.read($0) }
        guard !position.inRecovery else { return nil }
        return outputs(position, promotedNow: false)
    }

    public func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let target = try PostgresActionTarget.resolve("url", in: invocation.arguments)
        let wait = invocation.arguments["wait_seconds"]?.intValue ?? 60
        let promoted = try await target.with { connection in
            try await connection.query("SELECT pg_promote(true, $1::int)", [.int(Int64(wait))]).first!.decode(Bool.self, 0)
        }
        // false: not finished within wait_seconds; verify keeps waiting until the step's deadline.
        return ["promote_returned": .bool(promoted)]
    }

    public func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let target = try PostgresActionTarget.resolve("url", in: invocation.arguments)
        let waiter = Waiter<WriteProbe.Outcome>(what: "\(target.display) to accept writes", minimumDelay: 0.2, maximumDelay: 5,
                                                clock: invocation.services.clock) { outcome in
            outcome == .accepted ? .success : .retry
        }
        do {
            _ = try await waiter.wait(until: invocation.deadline) { await WriteProbe.run(target) }
        } catch let timedOut as Waiter<WriteProbe.Outcome>.TimedOut {
            throw ActionError(.timeout, timedOut.description)
        }
        let position = try await target.with { try await TimelinePosition.read($0) }
        return outputs(position, promotedNow: true)
    }

    private func outputs(_ position: TimelinePosition, promotedNow: Bool) -> [String: RunValue] {
        var outputs: [String: RunValue] = ["promoted": .bool(promotedNow), "timeline_id": .int(Int(position.timeline))]
        if let end = position.recoveryEndLSN { outputs["recovery_end_lsn"] = .string(end.description) }
        return outputs
    }
}
