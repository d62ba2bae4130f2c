import CSQLite
import Foundation

extension SQLiteStateStore {
    /// Group commit: appends that arrive while the connection is busy (twenty steps writing their
    /// intents at once) are written together in the next transaction, with one fsync when any of
    /// them must be durable, instead of one fsync each. Each caller still returns only after its
    /// own entries are committed (and synced, when durable).
    @discardableResult
    public func append(_ entry: JournalEntry) async throws -> Int64 {
        try await append(contentsOf: [entry])[0]
    }

    @discardableResult
    public func append(contentsOf entries: [JournalEntry]) async throws -> [Int64] {
        guard let first = entries.first else { return [] }
        _ = try writableConnection("append to the journal of run \(first.runId)")
        // Made once, before the first try: a retry carries the same ids.
        let ids = entries.map { _ in UUID().uuidString }
        return try await retried("append to the journal of run \(first.runId)") { attempt in
            try await self.appendAttempt(entries, ids: ids, retrying: attempt > 1)
        }
    }

    /// One try of an append. `retrying`: an earlier try with the same `ids` may have committed;
    /// then its sequence numbers are returned and nothing is written again. Throws SQLite's errors.
    func appendAttempt(_ entries: [JournalEntry], ids: [String], retrying: Bool) async throws -> [Int64] {
        let connection = try writableConnection("append to the journal")
        let encoded = try zip(entries, ids).map { entry, id in
            PendingAppend.Item(entry: entry, id: id,
                               detail: try Self.encode(entry.detail, path: path, what: "detail of a \(entry.kind.rawValue) entry of run \(entry.runId)"))
        }
        return try await withCheckedThrowingContinuation { continuation in
            let first = pendingAppends.withLock { pending -> Bool in
                pending.append(PendingAppend(items: encoded, retrying: retrying, continuation: continuation))
                return pending.count == 1
            }
            // The first of a group schedules the write; the others ride along with it.
            if first { connection.enqueue { [self] connection in self.writePending(connection) } }
        }
    }

    /// One caller's entries, written together (all or none) and answered together.
    struct PendingAppend: Sendable {
        struct Item: Sendable {
            let entry: JournalEntry
            let id: String
            let detail: String
        }
        let items: [Item]
        let retrying: Bool
        let continuation: CheckedContinuation<[Int64], any Error>
    }

    /// On the connection's queue: writes every append waiting now in one transaction. When one
    /// entry breaks a constraint (e.g. its run does not exist), each caller's entries are tried on
    /// their own, so that it fails alone; any other failure (busy beyond the timeout, an I/O error)
    /// is every one's, and each caller's retry decides what to do with it.
    private func writePending(_ connection: SQLiteConnection) {
        let group = pendingAppends.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        guard !group.isEmpty else { return }
        do {
            let sequences = try Self.insert(group, connection)
            for (item, numbers) in zip(group, sequences) { item.continuation.resume(returning: numbers) }
            return
        } catch let error as SQLiteError where group.count > 1 && error.primaryCode == SQLITE_CONSTRAINT {
            // One by one below.
        } catch {
            for item in group { item.continuation.resume(throwing: error) }
            return
        }
        for item in group {
            item.continuation.resume(with: Result { try Self.insert([item], connection)[0] })
        }
    }

    private static func insert(_ group: [PendingAppend], _ connection: SQLiteConnection) throws -> [[Int64]] {
        // FULL is the connection's setting; relax it when nothing in the group needs an fsync.
        let durable = group.contains { $0.items.contains { $0.entry.kind.mustBeDurable } }
        if !durable { try connection.execute("PRAGMA synchronous = NORMAL") }
        defer { if !durable { try? connection.execute("PRAGMA synchronous = FULL") } }
        // Reading the last seq and inserting the next under one write lock makes the numbering
        // gap-free and unique across processes; UNIQUE (run_id, seq) backs it up.
        return try connection.writeTransaction {
            var next: [String: Int64] = [:]
            return try group.map { append in
                if append.retrying, let landed = try landedSequences(of: append.items, connection) { return landed }
                return try append.items.map { item in
                    let entry = item.entry
                    let sequence = try next[entry.runId] ?? connection.queryFirst(
                        "SELECT COALESCE(MAX(seq), 0) + 1 FROM journal WHERE run_id = ?", [.text(entry.runId)]) { $0.int64(0) } ?? 1
                    try connection.execute(
                        "INSERT INTO journal (run_id, seq, at, kind, step_id, attempt, detail, entry_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [.text(entry.runId), .integer(sequence), .real(entry.at.timeIntervalSince1970), .text(entry.kind.rawValue),
                         entry.stepId.map { .text($0) } ?? .null, entry.attempt.map { .integer(Int64($0)) } ?? .null,
                         .text(item.detail), .text(item.id)])
                    next[entry.runId] = sequence + 1
                    return sequence
                }
            }
        }
    }

    /// The sequence numbers an earlier try of this append committed, or nil if it committed
    /// nothing (an append is all or none).
    private static func landedSequences(of items: [PendingAppend.Item], _ connection: SQLiteConnection) throws -> [Int64]? {
        let found = try items.map { item in
            try connection.queryFirst("SELECT seq FROM journal WHERE entry_id = ?", [.text(item.id)]) { $0.int64(0) }
        }
        let landed = found.compactMap { $0 }
        if landed.isEmpty { return nil }
        guard landed.count == items.count else {
            throw StateStoreError(.corrupt, "journal of run \(items[0].entry.runId): only part of an append was committed")
        }
        return landed
    }

    public func journal(runId: String) async throws -> [JournalEntry] {
        let rows = try await read("read the journal of run \(runId)", empty: []) { connection in
            try connection.query(
                "SELECT seq, at, kind, step_id, attempt, detail FROM journal WHERE run_id = ? ORDER BY seq",
                [.text(runId)]
            ) { row in
                JournalRow(sequence: row.int64(0), at: row.double(1), kind: row.text(2), stepId: row.optionalText(3),
                           attempt: row.optionalInt64(4), detail: row.data(5))
            }
        }
        let details = try decodeDetails(rows, runId: runId)
        return try zip(rows, details).map { row, detail in
            guard let kind = JournalKind(rawValue: row.kind) else {
                throw StateStoreError(.corrupt, "\(path): journal of run \(runId), entry \(row.sequence): unknown kind \(row.kind)")
            }
            return JournalEntry(runId: runId, sequence: row.sequence, at: Date(timeIntervalSince1970: row.at), kind: kind,
                                stepId: row.stepId, attempt: row.attempt.map { Int($0) }, detail: detail)
        }
    }

    /// Decodes the details with the fast reader of the synthesized `RunValue` shape; if any is not
    /// in that shape, with `JSONDecoder` — all in one call over `[d1,d2,…]`, and failing that one
    /// by one, to name the bad entry.
    private func decodeDetails(_ rows: [JournalRow], runId: String) throws -> [[String: RunValue]] {
        if let details = JournalDetailDecoder.decode(rows.map(\.detail)) { return details }
        let decoder = RunValueJSON.makeDecoder()
        var array = Data(capacity: rows.reduce(2) { $0 + $1.detail.count + 1 })
        array.append(UInt8(ascii: "["))
        for (index, row) in rows.enumerated() {
            if index > 0 { array.append(UInt8(ascii: ",")) }
            array.append(row.detail)
        }
        array.append(UInt8(ascii: "]"))
        if let details = try? decoder.decode([[String: RunValue]].self, from: array), details.count == rows.count {
            return details
        }
        return try rows.map { row in
            do {
                return try decoder.decode([String: RunValue].self, from: row.detail)
            } catch {
                throw StateStoreError(.corrupt, "\(path): journal of run \(runId), entry \(row.sequence): detail is not valid JSON of run values")
            }
        }
    }
}

private struct JournalRow: Sendable {
    let sequence: Int64
    let at: Double
    let kind: String
    let stepId: String?
    let attempt: Int64?
    let detail: Data
}
