import Foundation

/// The shared state store on PostgreSQL (`--state postgres://…` or `DRCTL_STATE_URL`): for teams
/// and for drill workers on several machines. Same tables, columns and semantics as
/// `SQLiteStateStore` (see `PostgresSchema`).
///
/// - Connects on first use (and migrates); after a lost connection the next call reconnects. A
///   call that was cut off is not retried: its commit may or may not have happened, so the error
///   goes to the engine, which treats the step as in doubt.
/// - Durability: entries with `JournalKind.mustBeDurable` commit with the server's
///   `synchronous_commit` (on by default: flushed to the WAL before `append` returns); others
///   commit with `SET LOCAL synchronous_commit = off` and ride on the next flush
///   (https://www.postgresql.org/docs/15/wal-async-commit.html).
/// - `append` numbers entries under the run row's lock (`SELECT … FOR UPDATE`), so sequence numbers
///   are 1…n without gaps or duplicates across hosts; `UNIQUE (run_id, seq)` backs it up.
/// - Single-flight: a lease row per scope, read and written under
///   `pg_advisory_xact_lock(hashtext(scope))` in one transaction; another run takes it over only
///   once `expires_at` has passed. Times are the callers' clocks, as with SQLite: keep hosts in NTP.
public actor PostgresStateStore: StateStore {
    /// `postgres://host:port/db`: safe to show.
    public nonisolated let target: String
    private let url: String
    private let connectTimeout: Int
    private var current: PostgresConnection?
    private var pending: Task<PostgresConnection, any Error>?

    /// Checks the URL now; connects on first use. Throws `.open` for a malformed URL.
    public init(url: String, connectTimeout: Int = 10) throws {
        do {
            target = try ConnectionTarget.parse(url, environment: ProcessInfo.processInfo.environment).display
        } catch {
            throw Self.storeError(error, operation: "open")
        }
        self.url = url
        self.connectTimeout = connectTimeout
    }

    /// Opens the store now: connects and migrates, so that a bad URL, password or schema fails here.
    public static func open(url: String, connectTimeout: Int = 10) async throws -> PostgresStateStore {
        let store = try PostgresStateStore(url: url, connectTimeout: connectTimeout)
        _ = try await store.schemaVersion()
        return store
    }

    // MARK: Runs

    public func createRun(_ run: RunRecord) async throws {
        let inputs = try Self.encode(run.inputs, what: "inputs of run \(run.id)")
        try await perform("create run \(run.id)") { session in
            try session.query(
                """
                INSERT INTO runs (id, runbook_name, runbook_path, runbook_digest, runbook_text, inputs, status,
                                  created_at, updated_at, started_by, host, mode, lock_scope)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                """,
                [.text(run.id), .text(run.runbookName), .text(run.runbookPath), .text(run.runbookDigest),
                 .text(run.runbookText), .text(inputs), .text(run.status.rawValue),
                 .double(run.createdAt.timeIntervalSince1970), .double(run.updatedAt.timeIntervalSince1970),
                 .text(run.startedBy), .text(run.host), .text(run.mode), .text(run.lockScope)])
        }
    }

    public func run(_ id: String) async throws -> RunRecord? {
        let rows = try await perform("read run \(id)") { session in
            try session.query("SELECT \(RunColumns.list) FROM runs WHERE id = $1", [.text(id)]).rows
        }
        return try rows.first.map { try RunColumns.record($0, target: target) }
    }

    public func runs(status: RunStatus?, limit: Int) async throws -> [RunRecord] {
        let rows = try await perform("list runs") { session in
            try session.query(
                """
                SELECT \(RunColumns.list) FROM runs WHERE ($1::text IS NULL OR status = $1)
                ORDER BY created_at DESC, id DESC LIMIT $2
                """,
                [status.map { .text($0.rawValue) } ?? .null, .int(Int64(max(limit, 0)))]).rows
        }
        return try rows.map { try RunColumns.record($0, target: target) }
    }

    public func runs(lockScope: String, limit: Int) async throws -> [RunRecord] {
        let rows = try await perform("list runs of \(lockScope)") { session in
            try session.query("SELECT \(RunColumns.list) FROM runs WHERE lock_scope = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
                              [.text(lockScope), .int(Int64(max(limit, 0)))]).rows
        }
        return try rows.map { try RunColumns.record($0, target: target) }
    }

    public func updateRun(_ id: String, status: RunStatus, at: Date) async throws {
        let changed = try await perform("update run \(id)") { session in
            try session.query("UPDATE runs SET status = $1, updated_at = $2 WHERE id = $3",
                              [.text(status.rawValue), .double(at.timeIntervalSince1970), .text(id)]).affectedRows
        }
        guard changed == 1 else { throw StateStoreError(.notFound, "\(target): update run \(id): no such run") }
    }

    // MARK: Journal

    @discardableResult
    public func append(_ entry: JournalEntry) async throws -> Int64 {
        try await append(contentsOf: [entry])[0]
    }

    @discardableResult
    public func append(contentsOf entries: [JournalEntry]) async throws -> [Int64] {
        guard let first = entries.first else { return [] }
        let encoded = try entries.map { entry in
            (entry, try Self.encode(entry.detail, what: "detail of a \(entry.kind.rawValue) entry of run \(entry.runId)"))
        }
        let durable = entries.contains { $0.kind.mustBeDurable }
        let target = target
        return try await perform("append to the journal of run \(first.runId)") { session in
            try session.transaction {
                if !durable { try session.query("SET LOCAL synchronous_commit = off") }
                var next: [String: Int64] = [:]
                return try encoded.map { entry, detail in
                    if next[entry.runId] == nil {
                        // The run row's lock orders appenders of one run across hosts; each statement
                        // after it sees the rows committed before the lock was granted (READ COMMITTED).
                        guard try session.query("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", [.text(entry.runId)]).count == 1 else {
                            throw StateStoreError(.notFound, "\(target): append to the journal of run \(entry.runId): no such run")
                        }
                        next[entry.runId] = try session.query("SELECT COALESCE(MAX(seq), 0) + 1 FROM journal WHERE run_id = $1",
                                                              [.text(entry.runId)]).first?.decode(Int64.self, 0) ?? 1
                    }
                    let sequence = next[entry.runId]!
                    try session.query(
                        "INSERT INTO journal (run_id, seq, at, kind, step_id, attempt, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        [.text(entry.runId), .int(sequence), .double(entry.at.timeIntervalSince1970), .text(entry.kind.rawValue),
                         entry.stepId.map { .text($0) } ?? .null, entry.attempt.map { .int(Int64($0)) } ?? .null, .text(detail)])
                    next[entry.runId] = sequence + 1
                    return sequence
                }
            }
        }
    }

    public func journal(runId: String) async throws -> [JournalEntry] {
        let rows = try await perform("read the journal of run \(runId)") { session in
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
    /// advisory lock makes read-decide-write one step for every host sharing the database.
    public func acquireLease(scope: String, holder: LeaseHolder, ttl: Double, now: Date) async throws -> LeaseAcquisition {
        try await perform("acquire lease \(scope)") { session in
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
        try await perform("release lease \(scope)") { session in
            try session.query("DELETE FROM leases WHERE scope = $1 AND run_id = $2", [.text(scope), .text(runId)])
        }
    }

    /// The lease row for `scope`, expired or not (compare `expiresAt` with the clock).
    public func lease(scope: String) async throws -> LeaseHolder? {
        try await perform("read lease \(scope)") { session in
            try session.query("SELECT \(LeaseColumns.list) FROM leases WHERE scope = $1", [.text(scope)]).first.map(LeaseColumns.holder)
        }
    }

    // MARK: Inspection

    /// The schema version of the database (the newest row of `drctl_schema_migrations`).
    public func schemaVersion() async throws -> Int {
        try await perform("read schema version") { try PostgresSchema.version($0) }
    }

    /// The server process of the store's current connection (for tests that cut it).
    func backendProcessID() async throws -> Int {
        try await perform("read backend pid") { try $0.query("SELECT pg_backend_pid()").first!.decode(Int.self, 0) }
    }

    /// The newest schema version this build knows.
    public static var latestSchemaVersion: Int { PostgresSchema.latestVersion }

    // MARK: Plumbing

    private func connection() async throws -> PostgresConnection {
        if let current { return current }
        if let pending { return try await pending.value }
        let task = Task { [url, connectTimeout] in
            let connection = try await PostgresConnection.connect(url, connectTimeout: connectTimeout)
            _ = try await connection.perform { try PostgresSchema.migrate($0) }
            return connection
        }
        pending = task
        defer { pending = nil }
        let connection = try await task.value
        current = connection
        return connection
    }

    @discardableResult
    private func perform<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        let connection: PostgresConnection
        do {
            connection = try await self.connection()
        } catch {
            throw Self.storeError(error, operation: "open")
        }
        do {
            return try await connection.perform(cancellable: false, body)
        } catch {
            if let error = error as? PostgresError, error.kind == .connectionLost, current === connection { current = nil }
            throw Self.storeError(error, operation: operation)
        }
    }

    private static func storeError(_ error: any Error, operation: String) -> StateStoreError {
        switch error {
        case let error as StateStoreError:
            return error
        case let error as PostgresSchema.NewerSchema:
            return StateStoreError(.schema, "\(operation): schema version \(error.found) was written by a newer drctl; this drctl supports up to version \(error.supported) — upgrade drctl")
        case let error as PostgresError:
            let kind: StateStoreError.Kind
            var explanation = error.description
            switch error.kind {
            case .invalidTarget, .authenticationFailed, .connectionFailed, .timeout:
                kind = .open
            case .connectionLost, .decoding:
                kind = .query
            case .server:
                switch error.sqlState {
                case "23505": kind = .conflict
                case "23503": kind = .notFound; explanation += " — no such run"
                case "42501": kind = .open; explanation += " — the role lacks a privilege on the drctl tables"
                default: kind = .query
                }
            }
            return StateStoreError(kind, "\(operation): \(explanation)")
        default:
            return StateStoreError(.query, "\(operation): \(error)")
        }
    }

    private static func encode(_ values: [String: RunValue], what: String) throws -> String {
        do {
            return try RunValueJSON.encode(values)
        } catch {
            throw StateStoreError(.query, "cannot encode the \(what) as JSON")
        }
    }
}

/// Columns of `runs`, in `list` order.
private enum RunColumns {
    static let list = "id, runbook_name, runbook_path, runbook_digest, runbook_text, inputs, status, created_at, updated_at, started_by, host, mode, lock_scope"

    static func record(_ row: PostgresRow, target: String) throws -> RunRecord {
        let id = try row.decode(String.self, 0)
        let statusText = try row.decode(String.self, 6)
        guard let status = RunStatus(rawValue: statusText) else {
            throw StateStoreError(.corrupt, "\(target): run \(id): unknown status \(statusText)")
        }
        let inputs: [String: RunValue]
        do {
            inputs = try RunValueJSON.makeDecoder().decode([String: RunValue].self, from: Data(try row.decode(String.self, 5).utf8))
        } catch {
            throw StateStoreError(.corrupt, "\(target): run \(id): inputs are not valid JSON of run values")
        }
        return RunRecord(id: id, runbookName: try row.decode(String.self, 1), runbookPath: try row.decode(String.self, 2),
                         runbookDigest: try row.decode(String.self, 3), runbookText: try row.decode(String.self, 4),
                         inputs: inputs, status: status,
                         createdAt: Date(timeIntervalSince1970: try row.decode(Double.self, 7)),
                         updatedAt: Date(timeIntervalSince1970: try row.decode(Double.self, 8)),
                         startedBy: try row.decode(String.self, 9), host: try row.decode(String.self, 10),
                         mode: try row.decode(String.self, 11), lockScope: try row.decode(String.self, 12))
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
