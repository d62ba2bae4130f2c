import Foundation

extension PostgresStateStore {
    // MARK: Journal

    @discardableResult
    public func append(_ entry: JournalEntry) async throws -> Int64 {
        try await append(contentsOf: [entry])[0]
    }

    @discardableResult
    public func append(contentsOf entries: [JournalEntry]) async throws -> [Int64] {
        guard let first = entries.first else { return [] }
        // Made once, before the first try: a retry carries the same ids.
        let ids = entries.map { _ in UUID().uuidString }
        return try await write("append to the journal of run \(first.runId)") { session, attempt in
            try Self.appendAttempt(entries, ids: ids, retrying: attempt > 1, session: session)
        }
    }

    /// One try of an append, in one transaction. `retrying`: an earlier try with the same `ids` may
    /// have committed (its answer was lost with the connection); then its sequence numbers are
    /// returned and nothing is written again.
    static func appendAttempt(_ entries: [JournalEntry], ids: [String], retrying: Bool, session: PostgresSession) throws -> [Int64] {
        let encoded = try entries.map { entry in
            (entry, try Self.encode(entry.detail, what: "detail of a \(entry.kind.rawValue) entry of run \(entry.runId)"))
        }
        let durable = entries.contains { $0.kind.mustBeDurable }
        return try session.transaction {
            if retrying, let landed = try landedSequences(of: ids, session) { return landed }
            if !durable { try session.query("SET LOCAL synchronous_commit = off") }
            var next: [String: Int64] = [:]
            return try zip(encoded, ids).map { item, id in
                let (entry, detail) = item
                if next[entry.runId] == nil {
                    // The run row's lock orders appenders of one run across hosts; each statement
                    // after it sees the rows committed before the lock was granted (READ COMMITTED).
                    guard try session.query("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", [.text(entry.runId)]).count == 1 else {
                        throw StateStoreError(.notFound, "append to the journal of run \(entry.runId): no such run")
                    }
                    next[entry.runId] = try session.query("SELECT COALESCE(MAX(seq), 0) + 1 FROM journal WHERE run_id = $1",
                                                          [.text(entry.runId)]).first?.decode(Int64.self, 0) ?? 1
                }
                let sequence = next[entry.runId]!
                try session.query(
                    "INSERT INTO journal (run_id, seq, at, kind, step_id, attempt, detail, entry_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    [.text(entry.runId), .int(sequence), .double(entry.at.timeIntervalSince1970), .text(entry.kind.rawValue),
                     entry.stepId.map { .text($0) } ?? .null, entry.attempt.map { .int(Int64($0)) } ?? .null, .text(detail), .text(id)])
                next[entry.runId] = sequence + 1
                return sequence
            }
        }
    }

    /// For tests: one try of an append on the store's connection.
    func appendAttempt(_ entries: [JournalEntry], ids: [String], retrying: Bool) async throws -> [Int64] {
        try await write("append to the journal") { session, _ in try Self.appendAttempt(entries, ids: ids, retrying: retrying, session: session) }
    }

    /// The sequence numbers an earlier try of an append committed, in `ids` order, or nil if it
    /// committed nothing (an append is all or none).
    private static func landedSequences(of ids: [String], _ session: PostgresSession) throws -> [Int64]? {
        // The ids are UUIDs: nothing in them needs quoting inside an array literal.
        let rows = try session.query("SELECT entry_id, seq FROM journal WHERE entry_id = ANY($1::text[])",
                                     [.text("{" + ids.joined(separator: ",") + "}")])
        var landed: [String: Int64] = [:]
        for row in rows.rows { landed[try row.decode(String.self, 0)] = try row.decode(Int64.self, 1) }
        if landed.isEmpty { return nil }
        guard landed.count == ids.count else {
            throw StateStoreError(.corrupt, "only part of an append was committed (\(landed.count) of \(ids.count) entries)")
        }
        return ids.map { landed[$0]! }
    }

    public func journal(runId: String) async throws -> [JournalEntry] {
        let rows = try await read("read the journal of run \(runId)", empty: []) { session in
            try session.query("SELECT seq, at, kind, step_id, attempt, detail FROM journal WHERE run_id = $1 ORDER BY seq",
                              [.text(runId)]).rows
        }
        let details: [[String: RunValue]]
        switch RunValueJSON.decodeDetails(try rows.map { Data(try $0.decode(String.self, 5).utf8) }) {
        case .success(let decoded): details = decoded
        case .failure(let failure):
            let sequence = (try? rows[failure.index].decode(Int64.self, 0)).map(String.init) ?? "?"
            throw StateStoreError(.corrupt, "\(target): journal of run \(runId), entry \(sequence): detail is not valid JSON of run values")
        }
        return try zip(rows, details).map { row, detail in
            let sequence = try row.decode(Int64.self, 0)
            let kindText = try row.decode(String.self, 2)
            guard let kind = JournalKind(rawValue: kindText) else {
                throw StateStoreError(.corrupt, "\(target): journal of run \(runId), entry \(sequence): unknown kind \(kindText)")
            }
            return JournalEntry(runId: runId, sequence: sequence, at: Date(timeIntervalSince1970: try row.decode(Double.self, 1)),
                                kind: kind, stepId: try row.decodeIfPresent(String.self, 3),
                                attempt: try row.decodeIfPresent(Int.self, 4), detail: detail)
        }
    }

    // MARK: Leases

    /// Takes `scope` for `ttl` seconds from `now`, as `SQLiteStateStore.acquireLease` does. The
    /// advisory lock makes read-decide-write one step for every host sharing the database. A retry
    /// after a try that did commit is a renewal by the same holder.
    public func acquireLease(scope: String, holder: LeaseHolder, ttl: Double, now: Date) async throws -> LeaseAcquisition {
        try await write("acquire lease \(scope)") { session, _ in
            try session.transaction {
                // https://www.postgresql.org/docs/15/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS
                try session.query("SELECT pg_advisory_xact_lock(hashtext($1))", [.text(scope)])
                let current = try session.query("SELECT \(LeaseColumns.list) FROM leases WHERE scope = $1", [.text(scope)])
                    .first.map(LeaseColumns.holder)
                // Only the process that holds the lease renews it: a `drctl resume` of the same run
                // from another process (or host) waits for it to expire like anyone else.
                let renewing = current.map { $0.runId == holder.runId && $0.host == holder.host && $0.pid == holder.pid } ?? false
                if let current, !renewing, current.expiresAt > now {
                    return .heldBy(current)
                }
                let acquiredAt = renewing ? current?.acquiredAt ?? now : now
                try session.query(
                    """
                    INSERT INTO leases (scope, run_id, holder, host, pid, acquired_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
                    ON CONFLICT (scope) DO UPDATE SET run_id = excluded.run_id, holder = excluded.holder, host = excluded.host,
                        pid = excluded.pid, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
                    """,
                    [.text(scope), .text(holder.runId), .text(holder.holder), .text(holder.host), .int(Int64(holder.pid)),
                     .double(acquiredAt.timeIntervalSince1970), .double(now.addingTimeInterval(ttl).timeIntervalSince1970)])
                return .acquired
            }
        }
    }

    /// Releases `scope` if `runId` holds it; someone else's lease is left alone.
    public func releaseLease(scope: String, runId: String) async throws {
        try await write("release lease \(scope)") { session, _ in
            try session.query("DELETE FROM leases WHERE scope = $1 AND run_id = $2", [.text(scope), .text(runId)])
        }
    }

    /// The lease row for `scope`, expired or not (compare `expiresAt` with the clock).
    public func lease(scope: String) async throws -> LeaseHolder? {
        try await read("read lease \(scope)", empty: nil) { session in
            try session.query("SELECT \(LeaseColumns.list) FROM leases WHERE scope = $1", [.text(scope)]).first.map(LeaseColumns.holder)
        }
    }
}

private enum LeaseColumns {
    static let list = "run_id, holder, host, pid, acquired_at, expires_at"

    static func holder(_ row: PostgresRow) throws -> LeaseHolder {
        LeaseHolder(runId: try row.decode(String.self, 0), holder: try row.decode(String.self, 1), host: try row.decode(String.self, 2),
                    pid: Int32(truncatingIfNeeded: try row.decode(Int64.self, 3)),
                    acquiredAt: Date(timeIntervalSince1970: try row.decode(Double.self, 4)),
                    expiresAt: Date(timeIntervalSince1970: try row.decode(Double.self, 5)))
    }
}
