import Foundation

/// `postgres.timeline` (read-only): the server's timeline and WAL position. With
/// `new_primary_url`/`new_primary_url_env` it is also the failback check: it fails when the
/// server (the old primary) has WAL past the point where the new primary's timeline forked —
/// attaching it as a standby, or failing back to it, would silently fork history; it must be
/// rewound (`pg_rewind`) or rebuilt from the new primary first.
public struct PostgresTimelineAction: RunbookAction {
    public let name = "postgres.timeline"
    public let summary = "Reads a PostgreSQL server's timeline and WAL position and, given the new primary, fails when failing back to it would fork history."
    public let permissions: [ActionPermission] = [
        .postgres("CONNECT; pg_control_checkpoint(), pg_walfile_name(), pg_stat_wal_receiver (pg_monitor, or a superuser)"),
    ]
    public let isMutating = false
    public let parameters: [ActionCatalog.Parameter] = PostgresActionTarget.parameters("url") + PostgresActionTarget.parameters("new_primary_url")

    public init() {}

    public func describe(_ arguments: [String: RunValue]) -> String {
        var text = "read the timeline of \(PostgresActionTarget.describe("url", arguments))"
        if arguments["new_primary_url"] != nil || arguments["new_primary_url_env"] != nil {
            text += " and check it has not forked from \(PostgresActionTarget.describe("new_primary_url", arguments))"
        }
        return text
    }

    public func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let target = try PostgresActionTarget.resolve("url", in: invocation.arguments)
        let position = try await target.with { try await TimelinePosition.read($0) }
        var outputs: [String: RunValue] = ["timeline_id": .int(Int(position.timeline)),
                                           "checkpoint_timeline_id": .int(Int(position.checkpointTimeline)),
                                           "in_recovery": .bool(position.inRecovery), "lsn": .string(position.lsn.description)]
        if let end = position.recoveryEndLSN { outputs["recovery_end_lsn"] = .string(end.description) }
        guard invocation.arguments["new_primary_url"] != nil || invocation.arguments["new_primary_url_env"] != nil else { return outputs }
        let newPrimaryTarget = try PostgresActionTarget.resolve("new_primary_url", in: invocation.arguments)
        let newPrimary = try await newPrimaryTarget.with { try await TimelinePosition.read($0) }
        switch TimelineFork.check(oldPrimary: position, newPrimary: newPrimary) {
        case .safe(let reason):
            outputs["failback_safe"] = .bool(true)
            outputs["reason"] = .string(reason)
            return outputs
        case .forked(let reason):
            throw ActionError(.permanent, "failback refused: \(reason)")
        }
    }
}

/// A WAL position (`pg_lsn`), "16/B374D848".
public struct LSN: Sendable, Comparable, CustomStringConvertible {
    public let value: UInt64

    public init(_ value: UInt64) { self.value = value }

    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16),
              high <= UInt32.max, low <= UInt32.max else { return nil }
        value = high << 32 | low
    }

    public var description: String { String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true) }

    public static func < (lhs: LSN, rhs: LSN) -> Bool { lhs.value < rhs.value }
}

/// Where a server is in WAL history.
public struct TimelinePosition: Sendable {
    /// The timeline it writes (a primary) or replays (a standby).
    public let timeline: UInt32
    /// `pg_control_checkpoint().timeline_id`: lags `timeline` right after a promotion until the
    /// first checkpoint on the new timeline.
    public let checkpointTimeline: UInt32
    public let inRecovery: Bool
    /// A primary's insert position, a standby's replay position.
    public let lsn: LSN
    /// On a promoted server: the end of recovery, where its timeline forked from the previous one
    /// (`pg_last_wal_replay_lsn()` stays there after recovery ends). Nil on a never-promoted primary.
    public let recoveryEndLSN: LSN?

    public init(timeline: UInt32, checkpointTimeline: UInt32, inRecovery: Bool, lsn: LSN, recoveryEndLSN: LSN?) {
        self.timeline = timeline
        self.checkpointTimeline = checkpointTimeline
        self.inRecovery = inRecovery
        self.lsn = lsn
        self.recoveryEndLSN = recoveryEndLSN
    }

    /// Reads it with functions `pg_monitor` may call. A primary's timeline is the first 8 hex
    /// digits of its current WAL file name; a standby's is the newest of its checkpoint's and its
    /// WAL receiver's.
    static func read(_ connection: PostgresConnection) async throws -> TimelinePosition {
        let row = try await connection.query(
            """
            SELECT pg_is_in_recovery(),
                   (SELECT timeline_id FROM pg_control_checkpoint()),
                   CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END,
                   CASE WHEN pg_is_in_recovery() THEN (SELECT received_tli FROM pg_stat_wal_receiver) END,
                   CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END::text,
                   pg_last_wal_replay_lsn()::text
            """).first!
        let inRecovery = try row.decode(Bool.self, 0)
        let checkpoint = UInt32(try row.decode(Int64.self, 1))
        var timeline = checkpoint
        if let walFile = try row.decodeIfPresent(String.self, 2), let fromFile = UInt32(walFile.prefix(8), radix: 16) {
            timeline = fromFile
        }
        if let received = try row.decodeIfPresent(Int64.self, 3) { timeline = max(timeline, UInt32(received)) }
        let lsnText = try row.decodeIfPresent(String.self, 4) ?? "0/0"
        let replayEnd = try row.decodeIfPresent(String.self, 5).flatMap(LSN.init)
        return TimelinePosition(timeline: timeline, checkpointTimeline: checkpoint, inRecovery: inRecovery,
                                lsn: LSN(lsnText) ?? LSN(0), recoveryEndLSN: inRecovery ? nil : replayEnd)
    }
}

/// Whether an old primary can follow (or fail back to) a new primary without losing or forking
/// history. Pure: decided from the two positions.
public enum TimelineFork: Sendable, Equatable {
    case safe(String)
    case forked(String)

    public static func check(oldPrimary old: TimelinePosition, newPrimary new: TimelinePosition) -> TimelineFork {
        if old.timeline > new.timeline {
            return .forked("the old primary is on timeline \(old.timeline), newer than the new primary's \(new.timeline)")
        }
        if old.timeline == new.timeline {
            // One history: safe while the old server is not ahead of the new one.
            return old.lsn <= new.lsn
                ? .safe("same timeline \(new.timeline); the old primary (\(old.lsn)) is not ahead of the new one (\(new.lsn))")
                : .forked("same timeline \(new.timeline) but the old primary (\(old.lsn)) is ahead of the new one (\(new.lsn))")
        }
        guard new.timeline == old.timeline + 1, let fork = new.recoveryEndLSN else {
            return .forked("the new primary is on timeline \(new.timeline), more than one step from the old primary's \(old.timeline) (or its fork point is unknown); rebuild the old primary from it")
        }
        guard old.lsn <= fork else {
            return .forked("the old primary wrote WAL up to \(old.lsn) on timeline \(old.timeline), past the fork point \(fork) of timeline \(new.timeline) (\(old.lsn.value - fork.value) bytes); rewind it with pg_rewind or rebuild it from the new primary")
        }
        return .safe("the old primary (\(old.lsn)) stopped at or before the fork point \(fork) of timeline \(new.timeline)")
    }
}
