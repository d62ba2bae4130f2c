import Foundation

/// `postgres.fence`: stops the old primary from taking writes after a failover, so two primaries
/// never both accept them (split brain).
/// - `method: read-only` (default): `ALTER SYSTEM SET default_transaction_read_only = on`,
///   `pg_reload_conf()`, then other client sessions are terminated (a session may have turned
///   the setting off for itself). Verified: a new session's write is refused (SQLSTATE 25006).
///   Needs `GRANT ALTER SYSTEM ON PARAMETER default_transaction_read_only`, EXECUTE on
///   `pg_reload_conf()` and `pg_signal_backend` (or a superuser).
/// - `method: terminate`: for servers where ALTER SYSTEM is not allowed: the database's
///   connection limit goes to 0 (`ALTER DATABASE … CONNECTION LIMIT 0`, as its owner) and other
///   client sessions are terminated. Verified: a new connection is refused. Superusers are not
///   held back by either method; say so in the runbook.
/// An unreachable server cannot be fenced by drctl: the step succeeds with `confirmed: false`
/// (a region that is down is the usual reason for a failover), and the runbook decides
/// (e.g. a `check` on `confirmed`, or fencing at the network).
public struct PostgresFenceAction: RunbookAction {
    public let name = "postgres.fence"
    public let summary = "Stops an old PostgreSQL primary from taking writes (read-only by default, or no connections) and ends other client sessions."
    public let permissions: [ActionPermission] = [
        .postgres("method read-only: ALTER SYSTEM on parameter default_transaction_read_only, EXECUTE on pg_reload_conf()"),
        .postgres("method terminate: ownership of the database (ALTER DATABASE … CONNECTION LIMIT 0)"),
        .postgres("pg_signal_backend membership (pg_terminate_backend of other sessions), or a superuser"),
        .postgres("TEMPORARY on the database (the write probe that verifies the fence)"),
    ]
    public let isMutating = true
    public let parameters: [ActionCatalog.Parameter] = PostgresActionTarget.parameters("url") + [.init("method", .string)]

    public init() {}

    enum Method: String {
        case readOnly = "read-only"
        case terminate
    }

    public func describe(_ arguments: [String: RunValue]) -> String {
        let method = arguments["method"]?.stringValue ?? Method.readOnly.rawValue
        return "fence the old PostgreSQL primary \(PostgresActionTarget.describe("url", arguments)) (\(method))"
    }

    private func method(_ invocation: ActionInvocation) throws -> Method {
        guard let text = invocation.arguments["method"]?.stringValue else { return .readOnly }
        guard let method = Method(rawValue: text) else { throw ActionError.invalidArgument("method", "\"read-only\" or \"terminate\"") }
        return method
    }

    public func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let target = try PostgresActionTarget.resolve("url", in: invocation.arguments)
        let method = try method(invocation)
        switch await probe(target, method) {
        case .accepted: return nil
        case .refused: return ["confirmed": .bool(true), "reachable": .bool(true), "method": .string(method.rawValue), "terminated_sessions": .int(0)]
        case .unreachable: return nil // act decides: it reports `confirmed: false`
        }
    }

    public func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let target = try PostgresActionTarget.resolve("url", in: invocation.arguments)
        let method = try method(invocation)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(target.connectionString, connectTimeout: 5)
        } catch let error as PostgresError where error.isUnreachable {
            invocation.services.messages("fence: \(target.display) is unreachable; it is not confirmed fenced (\(error.kind.rawValue))")
            return ["reachable": .bool(false), "unreachable_reason": .string(error.description)]
        } catch let error as PostgresError {
            throw error.actionError
        }
        defer { Task { await connection.close() } }
        do {
            let terminated = try await connection.perform { session -> Int in
                switch method {
                case .readOnly:
                    // ALTER SYSTEM cannot run in a transaction block: each is its own statement.
                    try session.query("ALTER SYSTEM SET default_transaction_read_only = on")
                    try session.query("SELECT pg_reload_conf()")
                case .terminate:
                    // The database name is an identifier; quote_ident builds it server-side.
                    let database = try session.query("SELECT quote_ident(current_database())").first!.decode(String.self, 0)
                    try session.query("ALTER DATABASE \(database) CONNECTION LIMIT 0")
                }
                return try session.query(
                    """
                    SELECT count(*) FILTER (WHERE pg_terminate_backend(a.pid)) FROM pg_stat_activity a
                    WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
                      AND NOT COALESCE((SELECT r.rolsuper FROM pg_roles r WHERE r.oid = a.usesysid), false)
                    """).first!.decode(Int.self, 0)
            }
            return ["reachable": .bool(true), "terminated_sessions": .int(terminated)]
        } catch let error as PostgresError {
            throw error.actionError
        }
    }

    public func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let method = try method(invocation)
        var outputs: [String: RunValue] = ["method": .string(method.rawValue), "terminated_sessions": acted["terminated_sessions"] ?? .int(0)]
        // An unconfirmed fence is a degradation of the run, never a silent success (the old
        // primary may come back and take writes): the engine reads `degraded`.
        let unconfirmed = "\(PostgresActionTarget.describe("url", invocation.arguments)) did not answer: not fenced by drctl, fence it at the network"
        if acted["reachable"] == .bool(false) {
            outputs["confirmed"] = .bool(false)
            outputs["reachable"] = .bool(false)
            outputs["degraded"] = .string(unconfirmed)
            return outputs
        }
        let target = try PostgresActionTarget.resolve("url", in: invocation.arguments)
        // The reload reaches sessions asynchronously: poll until a new session's write is refused.
        let waiter = Waiter<WriteProbe.Outcome>(what: "\(target.display) to refuse writes", minimumDelay: 0.2, maximumDelay: 2,
                                                clock: invocation.services.clock) { outcome in
            switch outcome {
            case .accepted: return .retry
            case .refused, .unreachable: return .success
            }
        }
        let outcome: WriteProbe.Outcome
        do {
            outcome = try await waiter.wait(until: invocation.deadline) { await probe(target, method) }
        } catch let timedOut as Waiter<WriteProbe.Outcome>.TimedOut {
            throw ActionError(.timeout, timedOut.description)
        }
        if case .unreachable = outcome, method == .readOnly {
            outputs["reachable"] = .bool(false)
            outputs["confirmed"] = .bool(false)
            outputs["degraded"] = .string(unconfirmed)
        } else {
            outputs["reachable"] = .bool(true)
            outputs["confirmed"] = .bool(true)
        }
        return outputs
    }

    /// read-only: the write probe. terminate: a refused new connection counts as refused.
    private func probe(_ target: PostgresActionTarget, _ method: Method) async -> WriteProbe.Outcome {
        let outcome = await WriteProbe.run(target)
        if method == .terminate, case .unreachable(let why) = outcome, why.contains("too many connections") {
            return .refused(why)
        }
        return outcome
    }
}
