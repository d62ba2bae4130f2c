import Foundation

/// The shared state store on PostgreSQL (`--state postgres://…`, a libpq conninfo, or
/// `DRCTL_STATE_URL`): for teams and for drill workers on several machines. Same tables, columns
/// and semantics as `SQLiteStateStore` (see `PostgresSchema`).
///
/// - Connects on first use (checks the server accepts writes, and migrates); `open` does it at
///   once. A first connection that fails is an error at once (a wrong URL or password should not
///   make anyone wait).
/// - Outages: once connected, a lost connection, a server restarting or refusing connections for
///   a moment, or a transient server error (serialization failure, deadlock) are retried with
///   backoff and a new connection until `retry.outageTolerance`, then `StateStoreError(.unavailable)`.
///   A retried call must not apply twice: appends carry client-generated entry ids and a retry
///   first looks for them (see `appendAttempt`); creating a run recognises its own row; lease
///   acquisition by the same holder is a renewal; updates and releases are idempotent.
/// - A server that accepts no writes (hot standby, `default_transaction_read_only`) is
///   `StateStoreError(.readOnly)` at once. Opened `readOnly` (commands that only read), the store
///   runs no DDL and takes no lock, its sessions are read-only, and a database without drctl's
///   tables reads as empty.
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
    public nonisolated let isReadOnly: Bool
    private let url: String
    private let connectTimeout: Int
    private let retry: StoreRetry
    private var current: PostgresConnection?
    private var pending: Task<PostgresConnection, any Error>?
    /// Whether a connection ever worked: only then is a failing connect an outage to ride through.
    private var everConnected = false
    /// False when opened read-only on a database without drctl's tables (known once connected).
    private var hasSchema = true

    /// Checks the URL or conninfo now; connects on first use. Throws `.open` for a malformed one.
    public init(url: String, connectTimeout: Int = 10, retry: StoreRetry = StoreRetry(), readOnly: Bool = false) throws {
        do {
            target = try ConnectionTarget.parse(url, environment: ProcessInfo.processInfo.environment).display
        } catch {
            throw Self.storeError(error, operation: "open")
        }
        self.url = url
        self.connectTimeout = connectTimeout
        self.retry = retry
        self.isReadOnly = readOnly
    }

    /// Opens the store now: connects (and migrates, unless `readOnly`), so that a bad URL,
    /// password, schema or a server that refuses writes fails here.
    public static func open(url: String, connectTimeout: Int = 10, retry: StoreRetry = StoreRetry(),
                            readOnly: Bool = false) async throws -> PostgresStateStore {
        let store = try PostgresStateStore(url: url, connectTimeout: connectTimeout, retry: retry, readOnly: readOnly)
        _ = try await store.schemaVersion()
        return store
    }

    public func missingSchemaNote() async throws -> String? {
        _ = try await schemaVersion()
        return hasSchema ? nil : "\(target) has no drctl tables yet (in the connection's search_path): nothing has run with it"
    }

    // MARK: Runs

    public func createRun(_ run: RunRecord) async throws {
        let inputs = try Self.encode(run.inputs, what: "inputs of run \(run.id)")
        try await write("create run \(run.id)") { session, attempt in
            // A retry after an answer that never came: the first try's row, if it is there, is ours.
            if attempt > 1, try session.query("SELECT 1 FROM runs WHERE id = $1 AND created_at = $2 AND runbook_digest = $3 AND host = $4",
                                              [.text(run.id), .double(run.createdAt.timeIntervalSince1970), .text(run.runbookDigest),
                                               .text(run.host)]).count == 1 {
                return
            }
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
        let rows = try await read("read run \(id)", empty: []) { session in
            try session.query("SELECT \(RunColumns.list) FROM runs WHERE id = $1", [.text(id)]).rows
        }
        return try rows.first.map { try RunColumns.record($0, target: target) }
    }

    public func runs(status: RunStatus?, limit: Int) async throws -> [RunRecord] {
        let rows = try await read("list runs", empty: []) { session in
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
        let rows = try await read("list runs of \(lockScope)", empty: []) { session in
            try session.query("SELECT \(RunColumns.list) FROM runs WHERE lock_scope = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
                              [.text(lockScope), .int(Int64(max(limit, 0)))]).rows
        }
        return try rows.map { try RunColumns.record($0, target: target) }
    }

    public func updateRun(_ id: String, status: RunStatus, at: Date) async throws {
        let changed = try await write("update run \(id)") { session, _ in
            try session.query("UPDATE runs SET status = $1, updated_at = $2 WHERE id = $3",
                              [.text(status.rawValue), .double(at.timeIntervalSince1970), .text(id)]).affectedRows
        }
        guard changed == 1 else { throw StateStoreError(.notFound, "\(target): update run \(id): no such run") }
    }

    // MARK: Inspection

    /// The schema version of the database (the newest row of `drctl_schema_migrations`; 0 for a
    /// read-only store on a database without drctl's tables).
    public func schemaVersion() async throws -> Int {
        try await read("read schema version", empty: 0) { try PostgresSchema.version($0) }
    }

    /// The server process of the store's current connection (for tests that cut it).
    func backendProcessID() async throws -> Int {
        try await read("read backend pid", empty: 0) { try $0.query("SELECT pg_backend_pid()").first!.decode(Int.self, 0) }
    }

    /// The newest schema version this build knows.
    public static var latestSchemaVersion: Int { PostgresSchema.latestVersion }

    // MARK: Plumbing

    /// A read, retried through outages; `empty` when the database has no drctl tables yet.
    func read<T: Sendable>(_ operation: String, empty: T, _ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        try await retried(operation) { store, _ in
            let connection = try await store.connection()
            guard await store.hasSchema else { return empty }
            return try await store.execute(body, on: connection)
        }
    }

    /// A write (with its attempt number, 1, 2 …), retried through outages.
    func write<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (PostgresSession, Int) throws -> T) async throws -> T {
        guard !isReadOnly else {
            throw StateStoreError(.readOnly, "\(target): \(operation): the store was opened read-only (this command only reads)")
        }
        return try await retried(operation) { store, attempt in
            try await store.execute({ try body($0, attempt) }, on: try await store.connection())
        }
    }

    private func retried<T: Sendable>(_ operation: String,
                                      _ attempt: @escaping @Sendable (PostgresStateStore, Int) async throws -> T) async throws -> T {
        do {
            return try await retry.run(isTransient: { ($0 as? PostgresError)?.isTransient == true }, outage: { error, waited in
                let cause = Self.storeError(error, operation: operation).message
                return StateStoreError(.unavailable, "\(cause) (still failing after \(DurationText.format(waited.rounded(.up))) of retries)")
            }, { [self] number in try await attempt(self, number) })
        } catch {
            throw Self.storeError(error, operation: operation)
        }
    }

    private func execute<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T, on connection: PostgresConnection) async throws -> T {
        do {
            return try await connection.perform(cancellable: false, body)
        } catch {
            // A broken connection is dropped; the next try connects anew.
            if let error = error as? PostgresError, error.kind == .connectionLost, current === connection { current = nil }
            throw error
        }
    }

    private func connection() async throws -> PostgresConnection {
        if let current { return current }
        if let pending { return try await pending.value }
        let task = Task { [url, connectTimeout, isReadOnly] () throws -> PostgresConnection in
            do {
                let connection = try await PostgresConnection.connect(url, connectTimeout: connectTimeout)
                let version = try await connection.perform { session in
                    if isReadOnly {
                        try session.query("SET default_transaction_read_only = on")
                        return try PostgresSchema.existingVersion(session)
                    }
                    // Refused here rather than at the first write: a store one writes to must take writes.
                    if try session.query("SELECT current_setting('transaction_read_only')").first?.decode(String.self, 0) == "on" {
                        throw PostgresError(kind: .server, sqlState: "25006", message: "the server accepts no writes (transaction_read_only is on)",
                                            target: connection.target)
                    }
                    return try PostgresSchema.migrate(session)
                }
                hasSchema = !isReadOnly || version > 0
                everConnected = true
                return connection
            } catch let error as PostgresError where !everConnected {
                // Not an outage: this store never worked. A wrong host, port or password fails now.
                throw FirstConnectionFailed(error: error)
            }
        }
        pending = task
        defer { pending = nil }
        let connection = try await task.value
        current = connection
        return connection
    }

    /// The first connection failed: reported as it is, not retried.
    private struct FirstConnectionFailed: Error {
        let error: PostgresError
    }

    static func storeError(_ error: any Error, operation: String) -> StateStoreError {
        switch error {
        case let error as StateStoreError:
            return error
        case let error as FirstConnectionFailed:
            return storeError(error.error, operation: operation)
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
                case "25006":
                    kind = .readOnly
                    explanation += " — the server takes no writes (a hot standby, or default_transaction_read_only): point the store at the primary"
                default: kind = .query
                }
            }
            return StateStoreError(kind, "\(operation): \(explanation)")
        default:
            return StateStoreError(.query, "\(operation): \(error)")
        }
    }

    static func encode(_ values: [String: RunValue], what: String) throws -> String {
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
