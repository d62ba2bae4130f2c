import Foundation

extension SQLiteStateStore {
    /// Takes `scope` for `ttl` seconds from `now` (the holder's own dates are ignored). Succeeds when
    /// nobody holds it, the holder's lease has expired, or the holder is the same run in the same
    /// process (run, host and pid) — then it is a renewal, which keeps the first `acquiredAt`.
    /// A retry after a try that did commit is such a renewal.
    public func acquireLease(scope: String, holder: LeaseHolder, ttl: Double, now: Date) async throws -> LeaseAcquisition {
        try await write("acquire lease \(scope)") { connection, _ in
            try connection.writeTransaction {
                let current = try connection.queryFirst("SELECT \(LeaseColumns.list) FROM leases WHERE scope = ?",
                                                        [.text(scope)], row: LeaseColumns.holder)
                // Only the process that holds the lease renews it: a `drctl resume` of the same run
                // from another process (or host) waits for it to expire like anyone else.
                let renewing = current.map { $0.runId == holder.runId && $0.host == holder.host && $0.pid == holder.pid } ?? false
                if let current, !renewing, current.expiresAt > now {
                    return .heldBy(current)
                }
                let acquiredAt = renewing ? current?.acquiredAt ?? now : now
                try connection.execute(
                    """
                    INSERT INTO leases (scope, run_id, holder, host, pid, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (scope) DO UPDATE SET run_id = excluded.run_id, holder = excluded.holder, host = excluded.host,
                        pid = excluded.pid, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
                    """,
                    [.text(scope), .text(holder.runId), .text(holder.holder), .text(holder.host), .integer(Int64(holder.pid)),
                     .real(acquiredAt.timeIntervalSince1970), .real(now.addingTimeInterval(ttl).timeIntervalSince1970)])
                return .acquired
            }
        }
    }

    /// Releases `scope` if `runId` holds it; someone else's lease is left alone.
    public func releaseLease(scope: String, runId: String) async throws {
        try await write("release lease \(scope)") { connection, _ in
            try connection.execute("DELETE FROM leases WHERE scope = ? AND run_id = ?", [.text(scope), .text(runId)])
        }
    }

    /// The lease row for `scope`, expired or not (compare `expiresAt` with the clock).
    public func lease(scope: String) async throws -> LeaseHolder? {
        try await read("read lease \(scope)", empty: nil) { connection in
            try connection.queryFirst("SELECT \(LeaseColumns.list) FROM leases WHERE scope = ?", [.text(scope)],
                                      row: LeaseColumns.holder)
        }
    }
}

private enum LeaseColumns {
    static let list = "run_id, holder, host, pid, acquired_at, expires_at"

    static func holder(_ row: SQLiteRow) -> LeaseHolder {
        LeaseHolder(runId: row.text(0), holder: row.text(1), host: row.text(2), pid: Int32(truncatingIfNeeded: row.int64(3)),
                    acquiredAt: Date(timeIntervalSince1970: row.double(4)), expiresAt: Date(timeIntervalSince1970: row.double(5)))
    }
}
