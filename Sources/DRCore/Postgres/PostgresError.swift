import Foundation

/// A failed PostgreSQL operation (after postgres-nio's `PSQLError`): what kind of failure, the
/// server's SQLSTATE and message when it answered, and the target as a URL without credentials.
/// The description is safe to log: libpq's and the server's messages are scrubbed of the
/// connection's password and of any URL credentials, and bound parameter values never appear.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The URL or conninfo string could not be parsed.
        case invalidTarget
        /// The server rejected the credentials (wrong password, no password supplied, no such role).
        case authenticationFailed
        /// No connection could be made (refused, unreachable, DNS, TLS).
        case connectionFailed
        /// `connect_timeout` passed without an answer.
        case timeout
        /// A working connection broke (server restarted, session terminated, network cut).
        case connectionLost
        /// The server answered a statement with an error; `sqlState` says which.
        case server
        /// A value in a result did not decode to the requested type.
        case decoding
    }

    public let kind: Kind
    /// Five-character SQLSTATE (https://www.postgresql.org/docs/15/errcodes-appendix.html).
    public let sqlState: String?
    public let message: String
    public let detail: String?
    public let hint: String?
    /// `postgres://host:port/db` (no user, no password), or the host for conninfo strings.
    public let target: String

    public init(kind: Kind, sqlState: String? = nil, message: String, detail: String? = nil, hint: String? = nil, target: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.target = target
    }

    public var description: String {
        var text = "PostgreSQL \(target): "
        switch kind {
        case .invalidTarget: text += "invalid connection URL or conninfo: "
        case .authenticationFailed: text += "authentication failed: "
        case .connectionFailed: text += "cannot connect: "
        case .timeout: text += "connection timed out: "
        case .connectionLost: text += "connection lost: "
        case .server, .decoding: break
        }
        text += message
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let detail, !detail.isEmpty { text += "; detail: \(detail)" }
        if let hint, !hint.isEmpty { text += "; hint: \(hint)" }
        return text
    }

    /// Retrying may help: the connection broke, or the server says so (serialization failures,
    /// deadlocks, admin shutdown, too many connections).
    public var isTransient: Bool {
        switch kind {
        case .connectionLost, .timeout, .connectionFailed: return true
        case .server:
            guard let sqlState else { return false }
            return ["40001", "40P01", "57P01", "57P02", "57P03", "53300"].contains(sqlState) || sqlState.hasPrefix("08")
        default: return false
        }
    }

    /// A read-only transaction or a hot standby refused a write (25006) — what a fenced or
    /// not-yet-promoted server answers.
    public var isReadOnlyRefusal: Bool { sqlState == "25006" }
}
