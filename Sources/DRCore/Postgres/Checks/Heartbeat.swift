import Foundation

/// The heartbeat table: one row per writer (`source`), its newest beat time and a counter.
/// Written on the primary every second by `HeartbeatWriter`; replication (or a restore) carries
/// it to copies, where the newest beat found says how much time of writes the copy holds. The
/// difference between the primary's newest beat and the copy's is the measured RPO.
public enum HeartbeatTable {
    public static let name = "drctl_heartbeat"
    public static let defaultSource = "drctl"

    static let create = """
        CREATE TABLE IF NOT EXISTS drctl_heartbeat (
            source text PRIMARY KEY,
            beat_at timestamptz NOT NULL,
            seq bigint NOT NULL
        )
        """

    /// One beat: `now()` of the writing transaction, and the counter advanced.
    static let beat = """
        INSERT INTO drctl_heartbeat (source, beat_at, seq) VALUES ($1, now(), 1)
        ON CONFLICT (source) DO UPDATE SET beat_at = EXCLUDED.beat_at, seq = drctl_heartbeat.seq + 1
        RETURNING beat_at, seq
        """

    /// The newest beat, of `source` or of any writer.
    static let newest = """
        SELECT source, beat_at, seq FROM drctl_heartbeat
        WHERE $1::text IS NULL OR source = $1::text
        ORDER BY beat_at DESC LIMIT 1
        """

    /// The newest beat on `target`, or nil when the table holds none (for that source).
    /// A missing table is reported as such: the heartbeat never reached this database.
    static func newestBeat(on target: PostgresActionTarget, source: String?) async throws -> Heartbeat? {
        do {
            return try await target.with { connection in
                let rows: PostgresRows
                do {
                    rows = try await connection.query(newest, [source.map(PostgresValue.text) ?? .null])
                } catch let error as PostgresError where error.sqlState == "42P01" {
                    throw ActionError(.permanent, "\(target.display) has no \(name) table: no heartbeat was ever written or replicated to it (run `drctl heartbeat` against the primary)")
                }
                guard let row = rows.first else { return nil }
                return Heartbeat(source: try row.decode(String.self, 0), beatAt: try row.decode(Date.self, 1), seq: try row.decode(Int64.self, 2))
            }
        } catch let error as ActionError where error.kind == .timeout {
            // libpq's connect_timeout: the server was not reached.
            throw ActionError(.transient, error.message)
        }
    }
}

/// One row of the heartbeat table.
public struct Heartbeat: Sendable, Equatable {
    public let source: String
    public let beatAt: Date
    public let seq: Int64

    public init(source: String, beatAt: Date, seq: Int64) {
        self.source = source
        self.beatAt = beatAt
        self.seq = seq
    }
}

/// The measured RPO (pure): how much time of writes the copy is missing, from the newest beat on
/// each side. Never negative: a copy cannot hold beats the primary has not written, and if it
/// seems to (a writer moved to the copy after promotion), nothing is missing.
public struct HeartbeatRPO: Sendable, Equatable {
    public let primary: Heartbeat
    public let copy: Heartbeat

    public init(primary: Heartbeat, copy: Heartbeat) {
        self.primary = primary
        self.copy = copy
    }

    public var seconds: Double { max(0, primary.beatAt.timeIntervalSince(copy.beatAt)) }
    /// Beats written on the primary that the copy does not have (same source only).
    public var beatsMissing: Int64? { primary.source == copy.source ? max(0, primary.seq - copy.seq) : nil }
}
