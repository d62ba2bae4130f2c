import Foundation

/// `postgres.check-freshness` (read-only): the newest value of a timestamp column
/// (`max(updated_at)`) must be at most `max_age` old, measured by the database's own clock
/// (`now()`), so the host's clock does not matter. `table` and `column` are validated and quoted
/// (`SQLIdentifier`). Outputs `passed`, `detail`, `newest` (ISO 8601, or null for an empty
/// table), `age_seconds`.
public struct PostgresCheckFreshnessAction: RunbookAction {
    public let name = "postgres.check-freshness"
    public let summary = "Checks that the newest value of a timestamp column is at most a given age, by the database's own clock."
    public let permissions: [ActionPermission] = [.postgres("CONNECT, and SELECT on the column")]
    public let isMutating = false
    public let parameters: [ActionCatalog.Parameter] = DataCheckSession.commonParameters
        + [.init("table", .string, required: true), .init("column", .string, required: true), .init("max_age", .duration, required: true)]

    public init() {}

    public func describe(_ arguments: [String: RunValue]) -> String {
        let maxAge = arguments["max_age"].map { "\($0)" } ?? "?"
        return "check that \(arguments["table"]?.stringValue ?? "?").\(arguments["column"]?.stringValue ?? "?") on \(PostgresActionTarget.describe("url", arguments)) is newer than \(maxAge)"
    }

    public func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let table = try SQLIdentifier(try invocation.string("table"))
        let column = try SQLIdentifier(try invocation.string("column"), what: "column", allowQualified: false)
        guard let maxAge = try invocation.seconds("max_age") else { throw ActionError(.permanent, "argument 'max_age' is required") }
        let target = try PostgresActionTarget.resolve("url", in: invocation.arguments)
        let sql = """
            SELECT max(\(column.quoted))::timestamptz, EXTRACT(EPOCH FROM now() - max(\(column.quoted))::timestamptz)::double precision
            FROM \(table.quoted)
            """
        let result = try await DataCheckSession.readOnly(target, deadline: invocation.deadline) { session in
            let row = try session.query(sql).first!
            guard let newest = try row.decodeIfPresent(Date.self, 0), let age = try row.decodeIfPresent(Double.self, 1) else {
                return DataCheckResult(passed: false, detail: "\(table).\(column) has no values (empty table)",
                                       measurements: ["newest": .null, "age_seconds": .null])
            }
            let measured: [String: RunValue] = ["newest": .string(ReportTime.iso8601(newest)), "age_seconds": .double(age)]
            if age > maxAge {
                return DataCheckResult(passed: false, detail: "newest \(table).\(column) is \(DurationText.format(age)) old, above max_age \(DurationText.format(maxAge))", measurements: measured)
            }
            return DataCheckResult(passed: true, detail: "newest \(table).\(column) is \(DurationText.format(max(0, age))) old (max_age \(DurationText.format(maxAge)))", measurements: measured)
        }
        return try result.outputs(enforce: DataCheckSession.enforce(invocation))
    }
}
