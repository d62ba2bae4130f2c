import CSQLite
import Dispatch
import Foundation

/// A value bound to a statement parameter. Values always travel as bound parameters, never
/// spliced into SQL text, so no data can change a statement's meaning or reach an error message.
enum SQLiteValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

/// A failed SQLite call: the extended result code, the operation drctl attempted and SQLite's
/// message. SQLite's messages name tables and columns ("UNIQUE constraint failed: runs.id"), never
/// bound values, so the description is safe to log.
struct SQLiteError: Error, CustomStringConvertible {
    /// The extended result code (https://www.sqlite.org/rescode.html).
    let code: Int32
    let operation: String
    let message: String

    /// The primary result code (the low byte of the extended code).
    var primaryCode: Int32 { code & 0xff }

    var description: String { "\(operation): \(message) (SQLite code \(code))" }

    // Extended codes are function-like macros in sqlite3.h, which Swift does not import.
    var isUniqueViolation: Bool { code == SQLITE_CONSTRAINT | (6 << 8) || code == SQLITE_CONSTRAINT | (8 << 8) }
    var isForeignKeyViolation: Bool { code == SQLITE_CONSTRAINT | (3 << 8) }
    /// SQLITE_READONLY_DBMOVED: the file was renamed, deleted or replaced under an open connection.
    static let readOnlyDatabaseMoved = SQLITE_READONLY | (4 << 8)
}

/// One row of a result, valid only inside the `query` callback that receives it.
struct SQLiteRow {
    fileprivate let statement: OpaquePointer

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(statement, column) }
    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(statement, column) else { return "" }
        // column_bytes after column_text: the length of the UTF-8 text just produced.
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

    /// The column's bytes (a TEXT column's UTF-8), without a detour through `String`.
    func data(_ column: Int32) -> Data {
        guard let bytes = sqlite3_column_blob(statement, column) else { return Data() }
        return Data(bytes: bytes, count: Int(sqlite3_column_bytes(statement, column)))
    }
}

/// A single sqlite3 connection with its prepared-statement cache.
///
/// Every use goes through `sync` or `perform`, which run the work on the connection's own serial
/// queue: sqlite3 handles are not to be used from two threads at once, and a statement may wait up
/// to the busy timeout for another process's write lock — that wait must not occupy a thread of
/// Swift's cooperative pool.
final class SQLiteConnection: @unchecked Sendable {
    let path: String
    // Touched only on `queue` (and in deinit, when no work can be pending).
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    private let queue: DispatchQueue

    /// Opens (creating if needed) the database at `path`: missing directories are created 0700 and
    /// a new file 0600, since runs hold runbook text and inputs. `busyTimeout` is how long a
    /// statement waits for another connection's lock before it fails with SQLITE_BUSY.
    /// `readOnly` opens an existing file without creating anything; writes then fail SQLITE_READONLY.
    init(path: String, busyTimeout: Duration, readOnly: Bool = false) throws {
        self.path = path
        self.queue = DispatchQueue(label: "drctl.sqlite")
        if !readOnly { try Self.prepareFile(at: path) }

        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw SQLiteError(code: rc, operation: "open", message: message)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        let milliseconds = busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000
        sqlite3_busy_timeout(db, Int32(clamping: milliseconds))
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        // close_v2 defers the close if anything is still outstanding instead of failing.
        sqlite3_close_v2(handle)
    }

    private static func prepareFile(at path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw SQLiteError(code: SQLITE_CANTOPEN, operation: "create directory \(directory)",
                                  message: (error as NSError).localizedDescription)
            }
        }
        // Create the file ourselves so that it is 0600 whatever the umask allows; SQLite gives
        // the -wal and -shm files the database file's permissions.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = errno
            // A file there that may not be written (permissions, a read-only mount) is a read-only store.
            let readOnly = [EACCES, EROFS, EPERM].contains(reason) && FileManager.default.fileExists(atPath: path)
            throw SQLiteError(code: readOnly ? SQLITE_READONLY : SQLITE_CANTOPEN, operation: readOnly ? "open file for writing" : "create file",
                              message: String(cString: strerror(reason)))
        }
        close(fd)
    }

    // MARK: Serialized access

    /// Runs `body` on the connection's queue and waits for it (for set-up at open time).
    func sync<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try queue.sync { try body(self) }
    }

    /// Runs `body` on the connection's queue without holding a cooperative thread meanwhile.
    func perform<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body(self) })
            }
        }
    }

    /// Runs `body` on the connection's queue later; the caller does not wait.
    func enqueue(_ body: @escaping @Sendable (SQLiteConnection) -> Void) {
        queue.async { body(self) }
    }

    // MARK: Statements (call only inside `sync`/`perform`)

    /// Runs one statement to completion, discarding any rows.
    func execute(_ sql: String, _ parameters: [SQLiteValue] = []) throws {
        try withStatement(sql, parameters) { statement in
            while try step(statement, sql) {}
        }
    }

    /// Runs one statement and maps each row.
    func query<T>(_ sql: String, _ parameters: [SQLiteValue] = [], row: (SQLiteRow) throws -> T) throws -> [T] {
        try withStatement(sql, parameters) { statement in
            var rows: [T] = []
            while try step(statement, sql) { rows.append(try row(SQLiteRow(statement: statement))) }
            return rows
        }
    }

    /// The first row of a statement, if any.
    func queryFirst<T>(_ sql: String, _ parameters: [SQLiteValue] = [], row: (SQLiteRow) throws -> T) throws -> T? {
        try withStatement(sql, parameters) { statement in
            guard try step(statement, sql) else { return nil }
            return try row(SQLiteRow(statement: statement))
        }
    }

    /// Runs DDL that has no parameters (a migration's statements) in one call.
    func executeScript(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard rc == SQLITE_OK else {
            throw SQLiteError(code: sqlite3_extended_errcode(handle), operation: "execute script",
                              message: message.map { String(cString: $0) } ?? errorMessage)
        }
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs `body` in a write transaction. `BEGIN IMMEDIATE` takes the write lock up front, so
    /// the busy timeout applies at the start; a deferred transaction that reads and then writes
    /// could instead fail with SQLITE_BUSY_SNAPSHOT, which no amount of waiting fixes.
    ///
    /// A file moved, deleted or replaced under the open connection (a restore over the live store)
    /// is refused as SQLITE_READONLY_DBMOVED: in WAL mode SQLite would go on writing to the old
    /// file's WAL, which the new file at the same path then shares.
    func writeTransaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            var moved: Int32 = 0
            if sqlite3_file_control(handle, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK, moved != 0 {
                throw SQLiteError(code: SQLiteError.readOnlyDatabaseMoved, operation: "BEGIN IMMEDIATE",
                                  message: "the file is not the one this connection opened")
            }
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            // The transaction may already be rolled back (e.g. after SQLITE_FULL); ignore that.
            if sqlite3_get_autocommit(handle) == 0 { try? execute("ROLLBACK") }
            throw error
        }
    }

    private var errorMessage: String { String(cString: sqlite3_errmsg(handle)) }

    private func withStatement<T>(_ sql: String, _ parameters: [SQLiteValue], _ body: (OpaquePointer) throws -> T) throws -> T {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        try bind(parameters, to: statement, sql)
        return try body(statement)
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw SQLiteError(code: sqlite3_extended_errcode(handle), operation: "prepare \(Self.summary(sql))",
                              message: errorMessage)
        }
        statements[sql] = statement
        return statement
    }

    private func bind(_ parameters: [SQLiteValue], to statement: OpaquePointer, _ sql: String) throws {
        for (offset, value) in parameters.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .integer(let int): rc = sqlite3_bind_int64(statement, index, int)
            case .real(let double): rc = sqlite3_bind_double(statement, index, double)
            case .text(let string):
                // SQLITE_TRANSIENT: SQLite copies the bytes, which live only for this call.
                rc = sqlite3_bind_text(statement, index, string, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
            }
            guard rc == SQLITE_OK else {
                throw SQLiteError(code: rc, operation: "bind parameter \(index) of \(Self.summary(sql))",
                                  message: errorMessage)
            }
        }
    }

    /// Steps once: true when a row is ready, false when done.
    private func step(_ statement: OpaquePointer, _ sql: String) throws -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            throw SQLiteError(code: sqlite3_extended_errcode(handle), operation: Self.summary(sql), message: errorMessage)
        }
    }

    /// The statement's first words, to say which operation failed without a wall of SQL.
    private static func summary(_ sql: String) -> String {
        let words = sql.split(whereSeparator: { $0.isWhitespace }).prefix(4)
        return words.joined(separator: " ")
    }
}
