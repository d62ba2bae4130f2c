import CLibPQ
import Dispatch
import Foundation
import Synchronization

/// One libpq connection (https://www.postgresql.org/docs/15/libpq.html).
///
/// - Targets: a `postgres://` / `postgresql://` URL or a `key=value` conninfo string; everything
///   libpq honours applies (`sslmode`, `sslrootcert`, `options`, several hosts, `PGPASSWORD`,
///   `PGPASSFILE`, `PGSSLMODE` …). drctl adds `connect_timeout` (unless the target sets one) and
///   `application_name=drctl`.
/// - Statements are parameterised only: `PQexecParams` with `$1…$n`, values sent apart from the
///   text, results in text format decoded by `PostgresRow`.
/// - libpq calls block, and a `PGconn` must not be used by two threads at once: every call runs on
///   the connection's own serial queue, never on a thread of Swift's cooperative pool; async
///   callers wait on a continuation.
/// - Secrets: the password (from the target or `PGPASSWORD`) is scrubbed from every message, and
///   the target is only ever shown as `postgres://host:port/db`.
/// - Cancellation: cancelling the task that waits on `perform` asks the server to cancel the
///   statement running for it (`PQcancel`, https://www.postgresql.org/docs/15/libpq-cancel.html),
///   which then fails with SQLSTATE 57014; a `perform` cancelled before it started does not run.
///   A step's timeout thus ends a long query instead of waiting for it.
public final class PostgresConnection: @unchecked Sendable {
    /// `postgres://host:port/database`, without user or password.
    public let target: String
    private let queue: DispatchQueue
    private let redactor: SecretRedactor
    // Touched only on `queue` (and in deinit, when no work can be pending).
    private var handle: OpaquePointer?
    /// libpq's cancel object (`PGcancel`): usable from any thread while the connection lives.
    private let cancel: OpaquePointer?
    /// Which `perform` is running on the queue now, and which were cancelled before they ran.
    private let operations = Mutex(Operations())
    /// Cancel requests on their way to the server: the next statement waits for them, so that a
    /// late request cannot cancel it instead.
    private let cancelsInFlight = DispatchGroup()

    private struct Operations {
        var next = 0
        var waiting: Set<Int> = []
        var running: Int?
        var cancelled: Set<Int> = []
    }

    private init(handle: OpaquePointer, target: String, redactor: SecretRedactor, queue: DispatchQueue) {
        self.handle = handle
        self.target = target
        self.redactor = redactor
        self.queue = queue
        cancel = PQgetCancel(handle)
    }

    deinit {
        if let cancel { PQfreeCancel(cancel) }
        if let handle { PQfinish(handle) }
    }

    /// Connects to `target` (URL or conninfo). `connectTimeout` (seconds) applies unless the target
    /// sets `connect_timeout` itself. Throws `PostgresError` (`.invalidTarget`,
    /// `.authenticationFailed`, `.connectionFailed`, `.timeout`) without the password.
    public static func connect(_ target: String, connectTimeout: Int = 10,
                               environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> PostgresConnection {
        let parsed = try ConnectionTarget.parse(target, environment: environment)
        let queue = DispatchQueue(label: "drctl.postgres")
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result {
                    let handle = try open(parsed, connectTimeout: connectTimeout)
                    let connection = PostgresConnection(handle: handle, target: parsed.display, redactor: parsed.redactor, queue: queue)
                    // Text-format timestamps in one known shape (see `PostgresTimestamp`).
                    _ = try connection.run("SELECT set_config('TimeZone', 'UTC', false), set_config('DateStyle', 'ISO, MDY', false)", [])
                    return connection
                })
            }
        }
    }

    private static func open(_ target: ConnectionTarget, connectTimeout: Int) throws -> OpaquePointer {
        // Defaults first: with expand_dbname the target's own settings, expanded in place of
        // `dbname`, override them (https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-PQCONNECTDBPARAMS).
        let keywords = ["connect_timeout", "application_name", "dbname"]
        let values = [String(max(connectTimeout, 1)), "drctl", target.conninfo]
        let handle = withCStrings(keywords) { keywordPointers in
            withCStrings(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let handle else {
            throw PostgresError(kind: .connectionFailed, message: "libpq could not allocate a connection", target: target.display)
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = target.redactor.redact(cleanMessage(PQerrorMessage(handle)))
            PQfinish(handle)
            throw PostgresError(kind: classifyConnectFailure(message), message: message, target: target.display)
        }
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        return handle
    }

    private static func classifyConnectFailure(_ message: String) -> PostgresError.Kind {
        let lower = message.lowercased()
        if lower.contains("password authentication failed") || lower.contains("no password supplied")
            || lower.contains("authentication failed") || (lower.contains("role \"") && lower.contains("does not exist")) {
            return .authenticationFailed
        }
        if lower.contains("timeout expired") { return .timeout }
        if lower.contains("invalid") && (lower.contains("connection option") || lower.contains("value")) { return .invalidTarget }
        return .connectionFailed
    }

    // MARK: Statements

    /// Runs `body` on the connection's queue with exclusive use of the connection: several
    /// statements in a row (a transaction) without another caller's statement in between.
    /// `cancellable`: cancelling the calling task cancels the statement on the server (or keeps it
    /// from starting); the state store passes false, so that a journal write a step's timeout
    /// interrupts still lands, as it does in the SQLite store.
    @discardableResult
    public func perform<T: Sendable>(cancellable: Bool = true, _ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        let id = operations.withLock { state -> Int in
            defer { state.next += 1 }
            state.waiting.insert(state.next)
            return state.next
        }
        let run = { () async throws -> T in
            try await withCheckedThrowingContinuation { continuation in
                self.queue.async {
                    self.cancelsInFlight.wait()
                    let wasCancelled = self.operations.withLock { state -> Bool in
                        state.waiting.remove(id)
                        if state.cancelled.remove(id) != nil { return true }
                        state.running = id
                        return false
                    }
                    guard !wasCancelled else { return continuation.resume(throwing: CancellationError()) }
                    let result = Result { try body(PostgresSession(connection: self)) }
                    self.operations.withLock { $0.running = nil }
                    continuation.resume(with: result)
                }
            }
        }
        guard cancellable else { return try await run() }
        return try await withTaskCancellationHandler(operation: run, onCancel: { self.cancelOperation(id) })
    }

    /// Cancels operation `id`: on the server if it is running (never another caller's statement),
    /// else before it starts. The operation still ends on the queue, with the server's error.
    private func cancelOperation(_ id: Int) {
        let send = operations.withLock { state -> Bool in
            guard state.running == id else {
                if state.waiting.contains(id) { state.cancelled.insert(id) }
                return false
            }
            // Entered while the statement still runs: the next one cannot start before the
            // request is through.
            cancelsInFlight.enter()
            return true
        }
        guard send else { return }
        // PQcancel opens its own connection to the server and waits for it to take the request:
        // not on the canceller's thread (often one of Swift's few cooperative threads).
        DispatchQueue.global().async {
            if let cancel = self.cancel {
                var buffer = [CChar](repeating: 0, count: 256)
                _ = PQcancel(cancel, &buffer, Int32(buffer.count))
            }
            self.cancelsInFlight.leave()
        }
    }

    /// One statement with `$n` parameters; returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> PostgresRows {
        try await perform { try $0.query(sql, parameters) }
    }

    /// True while libpq considers the connection usable (`PQstatus`). A broken connection is
    /// noticed by the next statement, which fails with `.connectionLost`.
    public var isConnected: Bool {
        queue.sync { handle.map { PQstatus($0) == CONNECTION_OK } ?? false }
    }

    /// Closes the connection; later statements fail with `.connectionLost`.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                if let handle = self.handle { PQfinish(handle) }
                self.handle = nil
                continuation.resume()
            }
        }
    }

    /// Executes one statement. Only on `queue`.
    fileprivate func run(_ sql: String, _ parameters: [PostgresValue]) throws -> PostgresRows {
        dispatchPrecondition(condition: .onQueue(queue))
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            throw PostgresError(kind: .connectionLost, message: "the connection is closed or broken", target: target)
        }
        let types = parameters.map { Oid($0.typeOID) }
        let texts = parameters.map(\.text)
        let result: OpaquePointer? = withOptionalCStrings(texts) { values in
            PQexecParams(handle, sql, Int32(parameters.count), types, values, nil, nil, 0)
        }
        guard let result else {
            throw PostgresError(kind: PQstatus(handle) == CONNECTION_OK ? .server : .connectionLost,
                                message: redactor.redact(Self.cleanMessage(PQerrorMessage(handle))), target: target)
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY else {
            throw error(from: result, handle: handle)
        }
        return copyRows(result)
    }

    private func error(from result: OpaquePointer, handle: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
        }
        let sqlState = field("C")
        let lost = PQstatus(handle) != CONNECTION_OK || sqlState == "57P01" || sqlState == "57P02"
        let message = field("M").map(redactor.redact) ?? redactor.redact(Self.cleanMessage(PQerrorMessage(handle)))
        // Details of data (22) and integrity (23) errors quote row values; they stay out of the message.
        let quotesData = sqlState.map { $0.hasPrefix("22") || $0.hasPrefix("23") } ?? false
        return PostgresError(kind: lost ? .connectionLost : .server, sqlState: sqlState, message: message,
                             detail: quotesData ? nil : field("D").map(redactor.redact), hint: field("H").map(redactor.redact),
                             target: target)
    }

    private func copyRows(_ result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        let types = (0..<columnCount).map { UInt32(PQftype(result, Int32($0))) }
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            let values: [String?] = (0..<Int32(columnCount)).map { column in
                if PQgetisnull(result, row, column) == 1 { return nil }
                let length = Int(PQgetlength(result, row, column))
                return PQgetvalue(result, row, column).map { pointer in
                    pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
                        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                    }
                }
            }
            rows.append(PostgresRow(values: values, columns: columns, target: target))
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? rowCount
        return PostgresRows(columns: columns, columnTypes: types, rows: rows, affectedRows: affected, target: target)
    }

    fileprivate static func cleanMessage(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "unknown error" }
        let lines = String(cString: pointer).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        return lines.filter { !$0.isEmpty }.joined(separator: "; ")
    }
}

/// Synchronous access to a connection inside `PostgresConnection.perform` (on its queue). Not to
/// be kept beyond the closure.
public struct PostgresSession {
    fileprivate let connection: PostgresConnection

    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresRows {
        try connection.run(sql, parameters)
    }

    /// `BEGIN` … `COMMIT`, or `ROLLBACK` when `body` throws (the rollback's own failure, e.g. on
    /// a lost connection, is secondary and dropped in favour of the original error).
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try query("BEGIN")
        do {
            let value = try body()
            try query("COMMIT")
            return value
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
    }
}

/// The target as libpq will read it, with what is needed to describe it safely.
struct ConnectionTarget {
    let conninfo: String
    let display: String
    let redactor: SecretRedactor

    static func parse(_ text: String, environment: [String: String]) throws -> ConnectionTarget {
        var environmentSecrets: [String] = []
        if let password = environment["PGPASSWORD"] { environmentSecrets.append(password) }
        var message: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(text, &message) else {
            let reason = message.map { String(cString: $0) } ?? "out of memory"
            if let message { PQfreemem(message) }
            // The rejected text may hold the password; only its redacted URL form is shown, and of
            // a conninfo libpq's reason keeps only quoted keywords (it may quote a piece of a
            // password: `missing "=" after "…"`).
            let redactor = SecretRedactor(secrets: environmentSecrets + (urlPassword(text) ?? []))
            let isURL = text.contains("://")
            let display = isURL ? RedactedURL.describe(text) : "(conninfo)"
            let shown = isURL ? RedactedURL.scrub(cleanReason(reason)) : keepingOnlyQuotedKeywords(cleanReason(reason))
            throw PostgresError(kind: .invalidTarget, message: redactor.redact(shown), target: redactor.redact(display))
        }
        defer { PQconninfoFree(options) }
        var settings: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { settings[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        let secrets = environmentSecrets + [settings["password"]].compactMap { $0 }
        let host = settings["host"] ?? settings["hostaddr"] ?? environment["PGHOST"] ?? "localhost"
        let port = settings["port"] ?? environment["PGPORT"] ?? "5432"
        let database = settings["dbname"] ?? environment["PGDATABASE"] ?? settings["user"] ?? ""
        return ConnectionTarget(conninfo: text, display: "postgres://\(host):\(port)/\(database)", redactor: SecretRedactor(secrets: secrets))
    }

    /// Every keyword libpq knows (`PQconndefaults`), from the linked libpq itself.
    static let libpqKeywords: Set<String> = {
        guard let options = PQconndefaults() else { return [] }
        defer { PQconninfoFree(options) }
        var keywords: Set<String> = []
        var option = options
        while let keyword = option.pointee.keyword {
            keywords.insert(String(cString: keyword))
            option += 1
        }
        return keywords
    }()

    /// `"text"` in a libpq message becomes `"…"` unless it is a keyword or `=`.
    private static func keepingOnlyQuotedKeywords(_ message: String) -> String {
        let parts = message.split(separator: "\"", omittingEmptySubsequences: false)
        return parts.enumerated().map { index, part in
            index.isMultiple(of: 2) || part == "=" || libpqKeywords.contains(String(part)) ? String(part) : "…"
        }.joined(separator: "\"")
    }

    private static func cleanReason(_ reason: String) -> String {
        reason.split(whereSeparator: \.isNewline).joined(separator: "; ")
    }

    /// `user:password@` of a URL, percent-decoded, for redaction of a URL libpq rejected.
    private static func urlPassword(_ text: String) -> [String]? {
        guard let scheme = text.range(of: "://") else { return nil }
        let rest = text[scheme.upperBound...]
        let authority = rest[..<(rest.firstIndex(of: "/") ?? rest.endIndex)]
        guard let at = authority.lastIndex(of: "@") else { return nil }
        let credentials = authority[..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return nil }
        let raw = String(credentials[credentials.index(after: colon)...])
        return [raw, raw.removingPercentEncoding ?? raw]
    }
}

/// Calls `body` with a NULL-terminated array of C strings that lives for the call.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    let constant = pointers.map { $0.map { UnsafePointer($0) } }
    return constant.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Calls `body` with an array of C strings (NULL for a nil value) that lives for the call.
private func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let pointers = strings.map { $0.map { strdup($0) } ?? nil }
    defer { pointers.forEach { free($0) } }
    let constant = pointers.map { $0.map { UnsafePointer($0) } }
    return constant.withUnsafeBufferPointer { body(strings.isEmpty ? nil : $0.baseAddress) }
}
