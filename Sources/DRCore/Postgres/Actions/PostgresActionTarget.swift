import Foundation

/// Where a PostgreSQL action connects: `url` (a literal URL or conninfo) or, better, `url_env` —
/// the name of an environment variable holding it, so that passwords never sit in runbooks or
/// the journal. The same pair exists with other prefixes (`standby_url` / `standby_url_env`).
/// Only the redacted form (`postgres://host:port/db`) is ever shown.
public struct PostgresActionTarget: Sendable {
    /// The argument pair's prefix: "url", "standby_url", …
    public let key: String
    let connectionString: String
    public let display: String

    /// The `with` parameters for a target named `key` (`key` and `key_env`).
    public static func parameters(_ key: String = "url", required: Bool = true) -> [ActionCatalog.Parameter] {
        // Neither is required on its own: one of the two must be given (checked when resolving).
        [.init(key, .string, help: "a PostgreSQL URL or conninfo (prefer \(key)_env: this one is kept in the runbook)"),
         .init("\(key)_env", .string, help: "the name of an environment variable holding the URL; \(key) or this one is needed")]
    }

    public static func resolve(_ key: String = "url", in arguments: [String: RunValue],
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PostgresActionTarget {
        if case .string(let name)? = arguments["\(key)_env"] {
            // Blank counts as unset: libpq reads an empty conninfo as "its defaults" ($PGHOST, else
            // the local socket), a server the plan never named.
            guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
                throw ActionError(.permanent, "environment variable \(name) (named by \(key)_env) is not set")
            }
            return PostgresActionTarget(key: key, connectionString: value, display: display(value))
        }
        if case .string(let text)? = arguments[key], case let value = text.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty {
            return PostgresActionTarget(key: key, connectionString: value, display: display(value))
        }
        throw ActionError(.permanent, "give \(key)_env (the name of a variable holding the URL) or \(key)")
    }

    /// How a step's description names the target (no I/O, no secrets).
    public static func describe(_ key: String = "url", _ arguments: [String: RunValue]) -> String {
        if case .string(let name)? = arguments["\(key)_env"] { return "$\(name)" }
        if case .string(let value)? = arguments[key] { return display(value) }
        return "?"
    }

    static func display(_ value: String) -> String {
        if value.contains("://") { return RedactedURL.describe(value) }
        return SecretRedactor().redact(value)
    }

    /// Connects; failures become `ActionError`s (transient for network failures, permanent for
    /// bad URLs and rejected credentials).
    public func connect(timeout: Int = 10) async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(connectionString, connectTimeout: timeout)
        } catch let error as PostgresError {
            throw error.actionError
        }
    }

    /// Connects, runs `body`, closes.
    public func with<T: Sendable>(timeout: Int = 10, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await connect(timeout: timeout)
        do {
            let value = try await body(connection)
            await connection.close()
            return value
        } catch let error as PostgresError {
            await connection.close()
            throw error.actionError
        } catch {
            await connection.close()
            throw error
        }
    }
}

extension PostgresError {
    /// The engine's classification of this failure (for `retry.on`).
    public var actionError: ActionError {
        switch kind {
        case .invalidTarget, .authenticationFailed, .decoding: return ActionError(.permanent, description)
        case .timeout: return ActionError(.timeout, description)
        case .connectionFailed, .connectionLost: return ActionError(.transient, description)
        case .server: return ActionError(isTransient ? .transient : .permanent, description)
        }
    }

    /// The server could not be reached at all (as opposed to: it answered with an error).
    public var isUnreachable: Bool { kind == .connectionFailed || kind == .timeout }
}

/// The write probe shared by promotion (the new primary accepts writes) and fencing (the old one
/// does not): a temporary table created and written in a transaction that is rolled back.
/// `CREATE` is refused both on a hot standby and in a read-only transaction (SQLSTATE 25006),
/// which is exactly what `default_transaction_read_only = on` makes every new transaction.
enum WriteProbe {
    enum Outcome: Sendable, Equatable, CustomStringConvertible {
        case accepted
        case refused(String)
        case unreachable(String)

        var description: String {
            switch self {
            case .accepted: return "a write was accepted"
            case .refused(let why): return "a write was refused (\(why))"
            case .unreachable(let why): return "unreachable (\(why))"
            }
        }
    }

    static func run(_ target: PostgresActionTarget) async -> Outcome {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(target.connectionString, connectTimeout: 5)
        } catch let error as PostgresError {
            return error.kind == .server ? .refused(error.description) : .unreachable(error.description)
        } catch {
            return .unreachable("\(error)")
        }
        defer { Task { await connection.close() } }
        do {
            try await connection.perform { session in
                try session.query("BEGIN")
                defer { _ = try? session.query("ROLLBACK") }
                try session.query("CREATE TEMP TABLE drctl_write_probe (at timestamptz)")
                try session.query("INSERT INTO drctl_write_probe VALUES (now())")
            }
            return .accepted
        } catch let error as PostgresError {
            return error.kind == .connectionLost ? .unreachable(error.description) : .refused(error.description)
        } catch {
            return .refused("\(error)")
        }
    }
}
