import Foundation

/// `postgres.check-checksum` (read-only): an md5 over a sample of a table — the first `sample`
/// rows (default 1000) ordered by `key_column` — computed in SQL, and, with `compare_url` /
/// `compare_url_env`, the same checksum on a second database (a promoted replica, a restored
/// copy): the step fails when they differ. Outputs `passed`, `detail`, `checksum`, `rows`, and
/// with a comparison `compare_checksum` and `matches`.
///
/// Each row is hashed from its text form (`md5(t::text)`); both connections use `TimeZone = UTC`
/// and ISO dates, so equal rows give equal text on both sides.
public struct PostgresCheckChecksumAction: RunbookAction {
    public let name = "postgres.check-checksum"
    public let summary = "Computes an md5 checksum over a sample of a table's rows, optionally on a second database too, and fails when they differ."
    public let permissions: [ActionPermission] = [.postgres("CONNECT, and SELECT on the table (on both databases)")]
    public let isMutating = false
    public let parameters: [ActionCatalog.Parameter] = DataCheckSession.commonParameters + PostgresActionTarget.parameters("compare_url")
        + [.init("table", .string, required: true), .init("key_column", .string, required: true), .init("sample", .int)]

    public init() {}

    public func describe(_ arguments: [String: RunValue]) -> String {
        let table = arguments["table"]?.stringValue ?? "?"
        var text = "checksum a sample of \(table) on \(PostgresActionTarget.describe("url", arguments))"
        if arguments["compare_url"] != nil || arguments["compare_url_env"] != nil {
            text += " and compare with \(PostgresActionTarget.describe("compare_url", arguments))"
        }
        return text
    }

    public func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let table = try SQLIdentifier(try invocation.string("table"))
        let key = try SQLIdentifier(try invocation.string("key_column"), what: "key column", allowQualified: false)
        let sample = invocation.arguments["sample"]?.intValue ?? 1000
        guard sample > 0 else { throw ActionError.invalidArgument("sample", "a positive number of rows") }
        let target = try PostgresActionTarget.resolve("url", in: invocation.arguments)
        let compare = invocation.arguments["compare_url"] != nil || invocation.arguments["compare_url_env"] != nil
            ? try PostgresActionTarget.resolve("compare_url", in: invocation.arguments) : nil

        let sql = TableSampleChecksum.sql(table: table, key: key)
        let here = try await TableSampleChecksum.compute(sql, sample: sample, on: target, deadline: invocation.deadline)
        var measured: [String: RunValue] = ["checksum": .string(here.checksum), "rows": .int(here.rows)]
        guard let compare else {
            return try DataCheckResult(passed: true, detail: "md5 of \(here.rows) row(s) of \(table) by \(key): \(here.checksum)",
                                       measurements: measured).outputs(enforce: true)
        }
        let there = try await TableSampleChecksum.compute(sql, sample: sample, on: compare, deadline: invocation.deadline)
        let matches = here == there
        measured["compare_checksum"] = .string(there.checksum)
        measured["compare_rows"] = .int(there.rows)
        measured["matches"] = .bool(matches)
        let detail = matches
            ? "\(table) sample (\(here.rows) row(s) by \(key)) matches on \(target.display) and \(compare.display): \(here.checksum)"
            : "\(table) sample differs: \(here.rows) row(s) with md5 \(here.checksum) on \(target.display), \(there.rows) row(s) with md5 \(there.checksum) on \(compare.display)"
        return try DataCheckResult(passed: matches, detail: detail, measurements: measured).outputs(enforce: DataCheckSession.enforce(invocation))
    }
}

/// The checksum of a table's first rows by key, computed by the server.
struct TableSampleChecksum: Sendable, Equatable {
    let checksum: String
    let rows: Int

    /// `$1` is the sample size. The identifiers are validated and quoted; nothing else is spliced.
    static func sql(table: SQLIdentifier, key: SQLIdentifier) -> String {
        """
        SELECT count(*)::bigint, md5(coalesce(string_agg(md5(drctl_sample_row::text), '' ORDER BY drctl_sample_row.\(key.quoted)), ''))
        FROM (SELECT * FROM \(table.quoted) ORDER BY \(key.quoted) LIMIT $1) AS drctl_sample_row
        """
    }

    static func compute(_ sql: String, sample: Int, on target: PostgresActionTarget, deadline: Date) async throws -> TableSampleChecksum {
        try await DataCheckSession.readOnly(target, deadline: deadline) { session in
            let row = try session.query(sql, [.int(Int64(sample))]).first!
            return TableSampleChecksum(checksum: try row.decode(String.self, 1), rows: try row.decode(Int.self, 0))
        }
    }
}
