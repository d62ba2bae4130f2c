import Foundation

/// `postgres.check-sql` (read-only): custom SQL that must return exactly one row with one
/// boolean column, true. Runs in a read-only transaction. Outputs `passed`, `detail`, `value`.
public struct PostgresCheckSQLAction: RunbookAction {
    public let name = "postgres.check-sql"
    public let summary = "Runs custom SQL in a read-only transaction that must return one row with one true boolean."
    public let permissions: [ActionPermission] = [.postgres("CONNECT, and SELECT on what the SQL reads")]
    public let isMutating = false
    public let parameters: [ActionCatalog.Parameter] = DataCheckSession.commonParameters + [.init("sql", .string, required: true)]

    public init() {}

    public func describe(_ arguments: [String: RunValue]) -> String {
        "check that a query on \(PostgresActionTarget.describe("url", arguments)) returns true"
    }

    public func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let sql = try invocation.string("sql")
        let target = try PostgresActionTarget.resolve("url", in: invocation.arguments)
        let result = try await DataCheckSession.readOnly(target, deadline: invocation.deadline) { session in
            let rows = try session.query(sql)
            // 16 is bool's type OID.
            guard rows.count == 1, rows.columns.count == 1, rows.columnTypes.first == 16 else {
                throw ActionError(.permanent, "the query must return exactly one row with one boolean column (it returned \(rows.count) row(s) of \(rows.columns.count) column(s))")
            }
            switch try rows.first!.decodeIfPresent(Bool.self, 0) {
            case true?: return DataCheckResult(passed: true, detail: "the query returned true", measurements: ["value": .bool(true)])
            case false?: return DataCheckResult(passed: false, detail: "the query returned false", measurements: ["value": .bool(false)])
            case nil: return DataCheckResult(passed: false, detail: "the query returned NULL", measurements: ["value": .null])
            }
        }
        return try result.outputs(enforce: DataCheckSession.enforce(invocation))
    }
}
