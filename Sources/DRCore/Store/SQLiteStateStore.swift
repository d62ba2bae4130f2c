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
///   instead of failing. A lock held past the busy timeout, or an I/O error, is retried with
///   backoff until `retry.outageTolerance` (see `StoreRetry`); a retried append finds the entries
///   its first try may have committed (by their entry ids) instead of writing them twice.
/// - Opened `readOnly` (commands that only read), it creates nothing, runs no DDL and takes no
///   lock: a missing file or one without the schema reads as an empty store.
public final class SQLiteStateStore: StateStore {
    public let path: String
    public let isReadOnly: Bool
    let retry: StoreRetry
    /// Nil when opened read-only and there is no file yet.
    let connection: SQLiteConnection?
    /// False when opened read-only on a missing file or one without drctl's tables.
    let hasSchema: Bool
    let pendingAppends = Mutex<[PendingAppend]>([])

    /// Opens or creates the store at `path` and migrates it to the current schema; with
    /// `readOnly`, opens an existing file as it is (see the type's notes). `busyTimeout` is how long
    /// a write waits for another process's write transaction before `retry` takes over.
    public init(path: String, busyTimeout: Duration = .seconds(30), retry: StoreRetry = StoreRetry(), readOnly: Bool = false) throws {
        self.path = path
        self.retry = retry
        self.isReadOnly = readOnly
        if readOnly {
            (connection, hasSchema) = try Self.openForReading(path: path, busyTimeout: busyTimeout)
            return
        }
        do {
            connection = try SQLiteConnection(path: path, busyTimeout: busyTimeout)
        } catch {
            throw Self.storeError(error, path: path, operation: "open")
        }
        hasSchema = true
        do {
            try connection?.sync { connection in
                // Another process creating the same new file at this moment can make these fail
                // with SQLITE_BUSY at once, without waiting: SQLite does not wait for a lock a
                // connection that already reads could deadlock on (https://www.sqlite.org/c3ref/busy_handler.html).
                try SQLiteOpenRetry.run(for: busyTimeout) {
                    // journal_mode answers the mode in force; a file system without shared memory
                    // (some network mounts) cannot do WAL and would silently stay in another mode.
                    let mode = try connection.queryFirst("PRAGMA journal_mode = WAL") { $0.text(0) }
                    guard mode?.lowercased() == "wal" else {
                        throw StateStoreError(.open, "\(path): cannot use WAL journal mode (got \(mode ?? "nothing")); keep the store on a local file system")
                    }
                }
                try connection.execute("PRAGMA synchronous = FULL")
                try connection.execute("PRAGMA foreign_keys = ON")
                try SQLiteOpenRetry.run(for: busyTimeout) { try SQLiteSchema.migrate(connection) }
            }
        } catch let error as SQLiteSchema.NewerSchema {
            throw Self.newerSchemaError(error, path: path)
        } catch {
            throw Self.storeError(error, path: path, operation: "open")
        }
    }

    private static func openForReading(path: String, busyTimeout: Duration) throws -> (SQLiteConnection?, Bool) {
        guard FileManager.default.fileExists(atPath: path) else { return (nil, false) }
        do {
            let connection = try SQLiteConnection(path: path, busyTimeout: busyTimeout, readOnly: true)
            let version = try connection.sync { connection in try SQLiteOpenRetry.run(for: busyTimeout) { try SQLiteSchema.version(connection) } }
            guard version <= SQLiteSchema.latestVersion else {
                throw SQLiteSchema.NewerSchema(found: version, supported: SQLiteSchema.latestVersion)
            }
            return (connection, version > 0)
        } catch let error as SQLiteSchema.NewerSchema {
            throw newerSchemaError(error, path: path)
        } catch {
            throw storeError(error, path: path, operation: "open")
        }
    }

    private static func newerSchemaError(_ error: SQLiteSchema.NewerSchema, path: String) -> StateStoreError {
        StateStoreError(.schema, "\(path): schema version \(error.found) was written by a newer drctl; this drctl supports up to version \(error.supported) — upgrade drctl")
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

    public func missingSchemaNote() async throws -> String? {
        guard !hasSchema else { return nil }
        return connection == nil
            ? "no drctl state store at \(path) yet: nothing has run with it"
            : "\(path) has no drctl tables yet: nothing has run with it"
    }

    // MARK: Runs

    public func createRun(_ run: RunRecord) async throws {
        let inputs = try Self.encode(run.inputs, path: path, what: "inputs of run \(run.id)")
        try await write("create run \(run.id)") { connection, attempt in
            // A retry after an answer that never came: the first try's row, if it is there, is ours.
            if attempt > 1, try connection.queryFirst("SELECT 1 FROM runs WHERE id = ? AND created_at = ? AND runbook_digest = ? AND host = ?",
                                                      [.text(run.id), .real(run.createdAt.timeIntervalSince1970),
                                                       .text(run.runbookDigest), .text(run.host)], row: { _ in true }) == true {
                return
            }
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
        let rows = try await read("read run \(id)", empty: []) { connection in
            try connection.query("SELECT \(RunColumns.list) FROM runs WHERE id = ?", [.text(id)], row: RunColumns.init)
        }
        return try rows.first.map { try $0.record(path: path) }
    }

    public func runs(status: RunStatus?, limit: Int) async throws -> [RunRecord] {
        let rows = try await read("list runs", empty: []) { connection in
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
        let rows = try await read("list runs of \(lockScope)", empty: []) { connection in
            try connection.query(
                "SELECT \(RunColumns.list) FROM runs WHERE lock_scope = ?1 ORDER BY created_at DESC, rowid DESC LIMIT ?2",
                [.text(lockScope), .integer(Int64(max(limit, 0)))], row: RunColumns.init)
        }
        return try rows.map { try $0.record(path: path) }
    }

    public func updateRun(_ id: String, status: RunStatus, at: Date) async throws {
        let found = try await write("update run \(id)") { connection, _ in
            try connection.execute("UPDATE runs SET status = ?, updated_at = ? WHERE id = ?",
                                   [.text(status.rawValue), .real(at.timeIntervalSince1970), .text(id)])
            return connection.changes == 1
        }
        guard found else { throw StateStoreError(.notFound, "\(path): update run \(id): no such run") }
    }

    // MARK: Inspection

    /// The schema version of the file (`PRAGMA user_version`; 0 for a read-only store without one).
    public func schemaVersion() async throws -> Int {
        try await read("read schema version", empty: 0) { try SQLiteSchema.version($0) }
    }

    /// The newest schema version this build knows.
    public static var latestSchemaVersion: Int { SQLiteSchema.latestVersion }

    // MARK: Plumbing

    /// A read, retried through transient failures; `empty` when there is nothing to read yet.
    func read<T: Sendable>(_ operation: String, empty: T, _ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        guard hasSchema, let connection else { return empty }
        return try await retried(operation) { _ in try await connection.perform(body) }
    }

    /// A write (with its attempt number, 1, 2 …), retried through transient failures.
    func write<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (SQLiteConnection, Int) throws -> T) async throws -> T {
        let connection = try writableConnection(operation)
        return try await retried(operation) { attempt in try await connection.perform { try body($0, attempt) } }
    }

    func writableConnection(_ operation: String) throws -> SQLiteConnection {
        guard !isReadOnly, let connection else {
            throw StateStoreError(.readOnly, "\(path): \(operation): the store was opened read-only (this command only reads)")
        }
        return connection
    }

    /// `attempt` until it succeeds or fails for good; SQLite errors become `StateStoreError`s.
    func retried<T: Sendable>(_ operation: String, _ attempt: @escaping @Sendable (Int) async throws -> T) async throws -> T {
        let path = path
        do {
            return try await retry.run(isTransient: Self.isTransient, outage: { error, waited in
                let cause = Self.storeError(error, path: path, operation: operation).message
                return StateStoreError(.unavailable, "\(cause) (still failing after \(DurationText.format(waited.rounded(.up))) of retries)")
            }, attempt)
        } catch {
            throw Self.storeError(error, path: path, operation: operation)
        }
    }

    /// Failures that another try may not see: a lock held past the busy timeout, a transient I/O
    /// error, a WAL index another process is rebuilding (https://www.sqlite.org/rescode.html).
    static func isTransient(_ error: any Error) -> Bool {
        guard let error = error as? SQLiteError else { return false }
        return [SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_PROTOCOL].contains(error.primaryCode)
    }

    static func storeError(_ error: any Error, path: String, operation: String) -> StateStoreError {
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
            case SQLITE_READONLY: kind = .readOnly
            case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH: kind = .open
            default: kind = .query
            }
        }
        var explanation = error.description
        switch kind {
        case .corrupt: explanation += " — the file is not a drctl state store or is damaged"
        case .notFound: explanation += " — no such run"
        case .readOnly:
            explanation += error.code == SQLiteError.readOnlyDatabaseMoved
                ? " — the file was moved, deleted or replaced while drctl had it open"
                : " — the file (or its directory) is not writable"
        default:
            if error.primaryCode == SQLITE_BUSY { explanation += " — another process held the store's write lock too long" }
        }
        return StateStoreError(kind, "\(path): \(operation): \(explanation)")
    }

    static func encode(_ values: [String: RunValue], path: String, what: String) throws -> String {
        do {
            return try RunValueJSON.encode(values)
        } catch {
            throw StateStoreError(.query, "\(path): cannot encode the \(what) as JSON")
        }
    }
}

/// Retries the statements of opening a store that SQLite can refuse at once with SQLITE_BUSY while
/// another process creates or converts the same file. The store's initializer is synchronous (and
/// runs on the connection's queue), so this waits on the thread as SQLite's own busy handler does,
/// with jittered backoff, for at most the busy timeout.
enum SQLiteOpenRetry {
    static func run<T>(for timeout: Duration, _ body: () throws -> T) throws -> T {
        let deadline = ContinuousClock.now + max(timeout, .seconds(1))
        var delay = 0.005
        while true {
            do {
                return try body()
            } catch let error as SQLiteError where [SQLITE_BUSY, SQLITE_LOCKED].contains(error.primaryCode) && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: delay * Double.random(in: 0.5...1))
                delay = min(delay * 2, 0.1)
            }
        }
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
            inputs = try RunValueJSON.makeDecoder().decode([String: RunValue].self, from: self.inputs)
        } catch {
            throw StateStoreError(.corrupt, "\(path): run \(id): inputs are not valid JSON of run values")
        }
        return RunRecord(id: id, runbookName: runbookName, runbookPath: runbookPath, runbookDigest: runbookDigest,
                         runbookText: runbookText, inputs: inputs, status: status,
                         createdAt: Date(timeIntervalSince1970: createdAt), updatedAt: Date(timeIntervalSince1970: updatedAt),
                         startedBy: startedBy, host: host, mode: mode, lockScope: lockScope)
    }
}
