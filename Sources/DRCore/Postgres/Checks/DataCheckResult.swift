import Foundation

/// What a data check found: whether it passed, a one-line reason a person can act on, and the
/// check's own measurements (`count`, `age_seconds`, `checksum` …).
public struct DataCheckResult: Sendable, Equatable {
    public let passed: Bool
    public let detail: String
    public let measurements: [String: RunValue]

    public init(passed: Bool, detail: String, measurements: [String: RunValue] = [:]) {
        self.passed = passed
        self.detail = detail
        self.measurements = measurements
    }

    /// The step's outputs (`passed`, `detail` and the measurements). A failed check fails the step
    /// (permanent: trying again will not change the data) unless `enforce` is false, which lets a
    /// drill record the result and carry on.
    public func outputs(enforce: Bool) throws -> [String: RunValue] {
        if !passed && enforce { throw ActionError(.permanent, "data check failed: \(detail)") }
        return measurements.merging(["passed": .bool(passed), "detail": .string(detail)]) { $1 }
    }
}

/// How the check actions reach the database: read-only transactions bounded by the step's
/// deadline, and an unreachable server reported as transient (the data may be fine; the network
/// is not), so `retry.on: [transient]` can try again.
enum DataCheckSession {
    /// The parameters every check takes besides its own.
    static let commonParameters: [ActionCatalog.Parameter] = PostgresActionTarget.parameters("url") + [.init("enforce", .bool)]

    static func enforce(_ invocation: ActionInvocation) -> Bool {
        invocation.arguments["enforce"]?.boolValue ?? true
    }

    /// Runs `body` in `BEGIN READ ONLY` … `ROLLBACK` with `statement_timeout` set to the time left
    /// before the step's deadline: a check never writes, and a slow query cannot outlive its step.
    static func readOnly<T: Sendable>(_ target: PostgresActionTarget, deadline: Date,
                                      _ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        do {
            return try await target.with { connection in
                try await connection.perform { session in
                    try session.query("BEGIN TRANSACTION READ ONLY")
                    defer { _ = try? session.query("ROLLBACK") }
                    let milliseconds = max(1000, Int(saturating: deadline.timeIntervalSinceNow * 1000))
                    try session.query("SELECT set_config('statement_timeout', $1, true)", [.text(String(milliseconds))])
                    return try body(session)
                }
            }
        } catch let error as ActionError where error.kind == .timeout {
            // libpq's connect_timeout: the server was not reached.
            throw ActionError(.transient, error.message)
        }
    }
}
