import CSQLite
import Foundation
import Synchronization

/// The embedded state store: one SQLite file, shared safely by several drctl processes.
///
/// - WAL journal mode: readers never block the writer and vice versa
///   (https://www.sqlite.org/wal.html).
/// - Durability where it matters: entries that precede a side effect or record a decision
///   (`JournalKind.mustBeDurable`: intents, approvals, compensations, run status) commit with
///   `synchronous=FULL`, which syncs the WAL — and with it every earlier commit — before `append`
///   returns. Other entries commit with `synchronous=NORMAL` (no fsync of their own): a power loss
///   can drop the newest of them, never one that came before a durable entry, and what it drops
///   (a step's outcome or end) is re-observed on resume. A killed process loses nothing.
/// - Writers use `BEGIN IMMEDIATE` and a busy timeout: a second process waits for the lock
///   instead of failing.
public final class SQLiteStateStore: StateStore {
    public let path: String
    private let connection: SQLiteConnection
    private let pendingAppends = Mutex<[PendingAppend]>([])

    /// Opens or creates the store at `path` and migrates it to the current schema.
    /// `busyTimeout` is how long a write waits for another process's write transaction.
    public init(path: String, busyTimeout: Duration = .seconds(30)) throws {
        self.path = path
        do {
            connection = try SQLiteConnection(path: path, busyTimeout: busyTimeout)
        } catch {
            throw Self.storeError(error, path: path, operation: "open")
        }
        do {
            try connection.sync { connection in
                // journal_mode answers the mode in force; a file system without shared memory
                // (some network mounts) cannot do WAL and would silently stay in another mode.
                let mode = try connection.queryFirst("PRAGMA journal_mode = WAL") { $0.text(0) }
                guard mode?.lowercased() == "wal" else {
                    throw StateStoreError(.open, "\(path): cannot use WAL journal mode (got \(mode ?? "nothing")); keep the store on a local file system")
                }
                try connection.execute("PRAGMA synchronous = FULL")
                try connection.execute("PRAGMA foreign_keys = ON")
                try SQLiteSchema.migrate(connection)
            }
        } catch let error as SQLiteSchema.NewerSchema {
            throw StateStoreError(.schema, "\(path): schema version \(error.found) was written by a newer drctl; this drctl supports up to version \(error.supported) — upgrade drctl")
        } catch {
            throw Self.storeError(error, path: path, operation: "open")
        }
    }

    /// `$XDG_STATE_HOME/drctl/state.db`, else `~/.local/state/drctl/state.db`
    /// (https://specifications.freedesktop.org/basedir-spec/latest/: a relative value is ignored).
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let stateHome = environment["XDG_STATE_HOME"], stateHome.hasPrefix("/") {
            return (stateHome as NSString).appendingPathComponent("drctl/state.db")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".local/state/drctl/state.db")
    }

    // MARK: Runs

    public func createRun(_ run: RunRecord) async throws {
        let inputs = try Self.encode(run.inputs, path: path, what: "inputs of run \(run.id)")
        try await perform("create run \(run.id)") { connection in
            try connection.execute(
                """
                INSERT INTO runs (id, runbook_name, runbook_path, runbook_digest, runbook_text, inputs, status,
                                  created_at, updated_at, started_by, host, mode, lock_scope)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(run.id), .text(run.runbookName), .text(run.runbookPath), .text(run.runbookDigest),
                 .text(run.runbookText), .text(inputs), .text(run.status.rawValue),
                 .real(run.createdAt.timeIntervalSince1970), .real(run.updatedAt.timeIntervalSince1970),
                 .text(run.startedBy), .text(run.host), .text(run.mode), .text(run.lockScope)])
        }
    }

    public func run(_ id: String) async throws -> RunRecord? {
        let rows = try await perform("read run \(id)") { connection in
            try connection.query("SELECT \(RunColumns.list) FROM runs WHERE id = ?", [.text(id)], row: RunColumns.init)
        }
        return try rows.first.map { try $0.record(path: path) }
    }

    public func runs(status: RunStatus?, limit: Int) async throws -> [RunRecord] {
        let rows = try await perform("list runs") { connection in
            try connection.query(
                """
                SELECT \(RunColumns.list) FROM runs WHERE (?1 IS NULL OR status = ?1)
                ORDER BY created_at DESC, rowid DESC LIMIT ?2
                """,
                [status.map { .text($0.rawValue) } ?? .null, .integer(Int64(max(limit, 0)))], row: RunColumns.init)
        }
        return try rows.map { try $0.record(path: path) }
    }

    public func runs(lockScope: String, limit: Int) async throws -> [RunRecord] {
        let rows = try await perform("list runs of \(lockScope)") { connection in
            try connection.query(
                "SELECT \(RunColumns.list) FROM runs WHERE lock_scope = ?1 ORDER BY created_at DESC, rowid DESC LIMIT ?2",
                [.text(lockScope), .integer(Int64(max(limit, 0)))], row: RunColumns.init)
        }
        return try rows.map { try $0.record(path: path) }
    }

    public func updateRun(_ id: String, status: RunStatus, at: Date) async throws {
        let changed = try await perform("update run \(id)") { connection in
            try connection.execute("UPDATE runs SET status = ?, updated_at = ? WHERE id = ?",
                                   [.text(status.rawValue), .real(at.timeIntervalSince1970), .text(id)])
            return connection.changes
        }
        guard changed == 1 else { throw StateStoreError(.notFound, "\(path): update run \(id): no such run") }
    }

    // MARK: Journal

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
        guard !entries.isEmpty else { return [] }
        let encoded = try entries.map { entry in
            (entry, try Self.encode(entry.detail, path: path, what: "detail of a \(entry.kind.rawValue) entry of run \(entry.runId)"))
        }
        return try await withCheckedThrowingContinuation { continuation in
            let first = pendingAppends.withLock { pending -> Bool in
                pending.append(PendingAppend(entries: encoded, continuation: continuation))
                return pending.count == 1
            }
            // The first of a group schedules the write; the others ride along with it.
            if first { connection.enqueue { [self] connection in self.writePending(connection) } }
        }
    }

    /// One caller's entries, written together (all or none) and answered together.
    private struct PendingAppend: Sendable {
        let entries: [(entry: JournalEntry, detail: String)]
        let continuation: CheckedContinuation<[Int64], any Error>

        var operation: String { "append to the journal of run \(entries[0].entry.runId)" }
    }

    /// On the connection's queue: writes every append waiting now in one transaction. When one
    /// entry breaks a constraint (e.g. its run does not exist), each caller's entries are tried on
    /// their own, so that it fails alone; any other failure (busy beyond the timeout, disk full)
    /// is every one's.
    private func writePending(_ connection: SQLiteConnection) {
        let group = pendingAppends.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        guard !group.isEmpty else { return }
        do {
            var sequences = try Self.insert(group.flatMap(\.entries), connection)[...]
            for item in group {
                item.continuation.resume(returning: Array(sequences.prefix(item.entries.count)))
                sequences = sequences.dropFirst(item.entries.count)
            }
            return
        } catch let error as SQLiteError where group.count > 1 && error.primaryCode == SQLITE_CONSTRAINT {
            // One by one below.
        } catch {
            for item in group { item.continuation.resume(throwing: Self.storeError(error, path: path, operation: item.operation)) }
            return
        }
        for item in group {
            do {
                item.continuation.resume(returning: try Self.insert(item.entries, connection))
            } catch {
                item.continuation.resume(throwing: Self.storeError(error, path: path, operation: item.operation))
            }
        }
    }

    private static func insert(_ group: [(entry: JournalEntry, detail: String)], _ connection: SQLiteConnection) throws -> [Int64] {
        // FULL is the connection's setting; relax it when nothing in the group needs an fsync.
        let durable = group.contains { $0.entry.kind.mustBeDurable }
        if !durable { try connection.execute("PRAGMA synchronous = NORMAL") }
        defer { if !durable { try? connection.execute("PRAGMA synchronous = FULL") } }
        // Reading the last seq and inserting the next under one write lock makes the numbering
        // gap-free and unique across processes; UNIQUE (run_id, seq) backs it up.
        return try connection.writeTransaction {
            var next: [String: Int64] = [:]
            return try group.map { item in
                let entry = item.entry
                let sequence = try next[entry.runId] ?? connection.queryFirst(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM journal WHERE run_id = ?", [.text(entry.runId)]) { $0.int64(0) } ?? 1
                try connection.execute(
                    "INSERT INTO journal (run_id, seq, at, kind, step_id, attempt, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [.text(entry.runId), .integer(sequence), .real(entry.at.timeIntervalSince1970), .text(entry.kind.rawValue),
                     entry.stepId.map { .text($0) } ?? .null, entry.attempt.map { .integer(Int64($0)) } ?? .null,
                     .text(item.detail)])
                next[entry.runId] = sequence + 1
                return sequence
            }
        }
    }

    public func journal(runId: String) async throws -> [JournalEntry] {
        let rows = try await perform("read the journal of run \(runId)") { connection in
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
        let decoder = Self.makeDecoder()
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

    // MARK: Leases

    /// Takes `scope` for `ttl` seconds from `now` (the holder's own dates are ignored). Succeeds when
    /// nobody holds it, the holder's lease has expired, or the holder is the same run in the same
    /// process (run, host and pid) — then it is a renewal, which keeps the first `acquiredAt`.
    public func acquireLease(scope: String, holder: LeaseHolder, ttl: Double, now: Date) async throws -> LeaseAcquisition {
        try await perform("acquire lease \(scope)") { connection in
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
        try await perform("release lease \(scope)") { connection in
            try connection.execute("DELETE FROM leases WHERE scope = ? AND run_id = ?", [.text(scope), .text(runId)])
        }
    }

    /// The lease row for `scope`, expired or not (compare `expiresAt` with the clock).
    public func lease(scope: String) async throws -> LeaseHolder? {
        try await perform("read lease \(scope)") { connection in
            try connection.queryFirst("SELECT \(LeaseColumns.list) FROM leases WHERE scope = ?", [.text(scope)],
                                      row: LeaseColumns.holder)
        }
    }

    // MARK: Inspection

    /// The schema version of the file (`PRAGMA user_version`).
    public func schemaVersion() async throws -> Int {
        try await perform("read schema version") { try SQLiteSchema.version($0) }
    }

    /// The newest schema version this build knows.
    public static var latestSchemaVersion: Int { SQLiteSchema.latestVersion }

    // MARK: Plumbing

    private func perform<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        do {
            return try await connection.perform(body)
        } catch {
            throw Self.storeError(error, path: path, operation: operation)
        }
    }

    private static func storeError(_ error: any Error, path: String, operation: String) -> StateStoreError {
        if let error = error as? StateStoreError { return error }
        guard let error = error as? SQLiteError else {
            return StateStoreError(.query, "\(path): \(operation): \(error)")
        }
        let kind: StateStoreError.Kind
        if error.isUniqueViolation {
            kind = .conflict
        } else if error.isForeignKeyViolation {
            kind = .notFound
        } else {
            switch error.primaryCode {
            case SQLITE_NOTADB, SQLITE_CORRUPT: kind = .corrupt
            case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_READONLY, SQLITE_AUTH: kind = .open
            default: kind = .query
            }
        }
        var explanation = error.description
        switch kind {
        case .corrupt: explanation += " — the file is not a drctl state store or is damaged"
        case .notFound: explanation += " — no such run"
        default:
            if error.primaryCode == SQLITE_BUSY { explanation += " — another process held the store's write lock too long" }
        }
        return StateStoreError(kind, "\(path): \(operation): \(explanation)")
    }

    private static func encode(_ values: [String: RunValue], path: String, what: String) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "+Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do {
            return String(decoding: try encoder.encode(values), as: UTF8.self)
        } catch {
            throw StateStoreError(.query, "\(path): cannot encode the \(what) as JSON")
        }
    }

    fileprivate static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "+Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return decoder
    }
}

/// A `runs` row as read, decoded into a `RunRecord` off the connection's queue.
private struct RunColumns: Sendable {
    static let list = "id, runbook_name, runbook_path, runbook_digest, runbook_text, inputs, status, created_at, updated_at, started_by, host, mode, lock_scope"

    let id, runbookName, runbookPath, runbookDigest, runbookText: String
    let inputs: Data
    let status: String
    let createdAt, updatedAt: Double
    let startedBy, host, mode, lockScope: String

    init(_ row: SQLiteRow) {
        id = row.text(0); runbookName = row.text(1); runbookPath = row.text(2); runbookDigest = row.text(3)
        runbookText = row.text(4); inputs = row.data(5); status = row.text(6)
        createdAt = row.double(7); updatedAt = row.double(8)
        startedBy = row.text(9); host = row.text(10); mode = row.text(11); lockScope = row.text(12)
    }

    func record(path: String) throws -> RunRecord {
        guard let status = RunStatus(rawValue: status) else {
            throw StateStoreError(.corrupt, "\(path): run \(id): unknown status \(status)")
        }
        let inputs: [String: RunValue]
        do {
            inputs = try SQLiteStateStore.makeDecoder().decode([String: RunValue].self, from: self.inputs)
        } catch {
            throw StateStoreError(.corrupt, "\(path): run \(id): inputs are not valid JSON of run values")
        }
        return RunRecord(id: id, runbookName: runbookName, runbookPath: runbookPath, runbookDigest: runbookDigest,
                         runbookText: runbookText, inputs: inputs, status: status,
                         createdAt: Date(timeIntervalSince1970: createdAt), updatedAt: Date(timeIntervalSince1970: updatedAt),
                         startedBy: startedBy, host: host, mode: mode, lockScope: lockScope)
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

private enum LeaseColumns {
    static let list = "run_id, holder, host, pid, acquired_at, expires_at"

    static func holder(_ row: SQLiteRow) -> LeaseHolder {
        LeaseHolder(runId: row.text(0), holder: row.text(1), host: row.text(2), pid: Int32(truncatingIfNeeded: row.int64(3)),
                    acquiredAt: Date(timeIntervalSince1970: row.double(4)), expiresAt: Date(timeIntervalSince1970: row.double(5)))
    }
}
