import Foundation

/// `postgres.replication-lag` (read-only): how far a streaming standby is behind its primary,
/// in bytes and in time. `pg_stat_replication.replay_lag` is not used: it stays near its last
/// value while replay is paused or stuck.
///
/// - `lag_bytes`: `pg_wal_lsn_diff(primary's pg_current_wal_lsn(), standby's pg_last_wal_replay_lsn())`
/// - `lag_seconds`: when the primary has written WAL the standby has not replayed,
///   `now() - pg_last_xact_replay_timestamp()` on the standby (the age of the newest replayed
///   commit); 0 when it is caught up (an idle primary otherwise looks ever more "behind").
/// With `max_lag` (a duration) or `max_lag_bytes`, the step fails when the lag is above them.
public struct PostgresReplicationLagAction: RunbookAction {
    public let name = "postgres.replication-lag"
    public let summary = "Measures how far a streaming PostgreSQL standby is behind its primary, in bytes and in time, optionally failing above a limit."
    public let permissions: [ActionPermission] = [
        .postgres("CONNECT to both servers; pg_current_wal_lsn() on the primary and pg_last_wal_replay_lsn(), pg_last_xact_replay_timestamp(), pg_get_wal_replay_pause_state() on the standby (pg_monitor, or a superuser)"),
    ]
    public let isMutating = false
    public let parameters: [ActionCatalog.Parameter] = PostgresActionTarget.parameters("url") + PostgresActionTarget.parameters("standby_url")
        + [.init("max_lag", .duration), .init("max_lag_bytes", .int)]

    public init() {}

    public func describe(_ arguments: [String: RunValue]) -> String {
        "measure replication lag of \(PostgresActionTarget.describe("standby_url", arguments)) behind \(PostgresActionTarget.describe("url", arguments))"
    }

    public func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let primary = try PostgresActionTarget.resolve("url", in: invocation.arguments)
        let standby = try PostgresActionTarget.resolve("standby_url", in: invocation.arguments)
        let lag = try await ReplicationLag.measure(primary: primary, standby: standby)
        if let limit = try invocation.seconds("max_lag"), lag.seconds > limit {
            throw ActionError(.permanent, "replication lag \(DurationText.format(lag.seconds)) is above max_lag \(DurationText.format(limit))")
        }
        if let limit = invocation.arguments["max_lag_bytes"]?.intValue, lag.bytes > Int64(limit) {
            throw ActionError(.permanent, "replication lag \(lag.bytes) bytes is above max_lag_bytes \(limit)")
        }
        return ["lag_bytes": .int(Int(lag.bytes)), "lag_seconds": .double(lag.seconds), "replay_paused": .bool(lag.replayPaused)]
    }
}

/// One measurement of a standby's lag.
public struct ReplicationLag: Sendable, Equatable {
    public let bytes: Int64
    public let seconds: Double
    public let replayPaused: Bool

    /// Reads the primary's WAL position first, then the standby's replay position: the standby
    /// can only be measured as behind by more than the truth, never less.
    public static func measure(primary: PostgresActionTarget, standby: PostgresActionTarget) async throws -> ReplicationLag {
        let primaryLSN = try await primary.with { connection in
            try await connection.query("SELECT pg_current_wal_lsn()::text").first!.decode(String.self, 0)
        }
        return try await standby.with { connection in
            let row = try await connection.query(
                """
                SELECT pg_is_in_recovery(),
                       pg_wal_lsn_diff($1::text::pg_lsn, pg_last_wal_replay_lsn())::bigint,
                       EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::double precision,
                       CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() <> 'not paused' ELSE false END
                """, [.text(primaryLSN)]).first!
            guard try row.decode(Bool.self, 0) else {
                throw ActionError(.permanent, "\(standby.display) is not a standby (pg_is_in_recovery() is false)")
            }
            let bytes = max(0, try row.decodeIfPresent(Int64.self, 1) ?? 0)
            let age = try row.decodeIfPresent(Double.self, 2)
            // No replayed transaction yet while the primary has written: behind by an unknown time.
            let seconds = bytes == 0 ? 0 : max(0, age ?? .infinity)
            return ReplicationLag(bytes: bytes, seconds: seconds, replayPaused: try row.decode(Bool.self, 3))
        }
    }
}

extension ReplicationLag {
    /// What the standby alone can tell when its primary does not answer (the usual state of a
    /// failover): everything the primary committed up to the standby's newest replayed commit
    /// survives a promotion, so at most `now() - pg_last_xact_replay_timestamp()` of commits is
    /// lost — an upper bound (an idle or long-dead primary makes it larger than the truth, never
    /// smaller). Nil when the standby has replayed no commit since it started: then nothing bounds it.
    public static func bound(standby: PostgresActionTarget) async throws -> Double? {
        try await standby.with { connection in
            let row = try await connection.query(
                "SELECT pg_is_in_recovery(), EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::double precision").first!
            guard try row.decode(Bool.self, 0) else {
                throw ActionError(.permanent, "\(standby.display) is not a standby (pg_is_in_recovery() is false)")
            }
            return try row.decodeIfPresent(Double.self, 1).map { max(0, $0) }
        }
    }
}
