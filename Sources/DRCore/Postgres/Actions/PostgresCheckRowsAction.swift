import Foundation

/// `postgres.check-rows` (read-only): a query returning one number (usually `count(*)`) must lie
/// within `min`…`max`, and/or within `tolerance_percent` of `expected` (exact when no tolerance).
/// The query runs as written, in a read-only transaction: it is the runbook author's SQL.
/// Outputs `passed`, `detail`, `count`.
public struct PostgresCheckRowsAction: RunbookAction {
    public let name = "postgres.check-rows"
    public let summary = "Runs a query returning one number (usually a count) in a read-only transaction and checks it against limits or an expected value."
    public let permissions: [ActionPermission] = [.postgres("CONNECT, and SELECT on what the query reads")]
    public let isMutating = false
    public let parameters: [ActionCatalog.Parameter] = DataCheckSession.commonParameters
        + [.init("sql", .string, required: true), .init("min", .number), .init("max", .number),
           .init("expected", .number), .init("tolerance_percent", .number)]

    public init() {}

    public func describe(_ arguments: [String: RunValue]) -> String {
        "check a row count on \(PostgresActionTarget.describe("url", arguments)) (\(RowCountRange(arguments)?.description ?? "no bounds"))"
    }

    public func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let sql = try invocation.string("sql")
        guard let range = RowCountRange(invocation.arguments) else {
            throw ActionError(.permanent, "postgres.check-rows needs min, max or expected")
        }
        let target = try PostgresActionTarget.resolve("url", in: invocation.arguments)
        let count = try await DataCheckSession.readOnly(target, deadline: invocation.deadline) { session in
            let rows = try session.query(sql)
            guard rows.count == 1, rows.columns.count == 1, let text = rows.first?.text(0) else {
                throw ActionError(.permanent, "the query must return exactly one non-null value (it returned \(rows.count) row(s) of \(rows.columns.count) column(s))")
            }
            guard let number = Double(text), number.isFinite else {
                throw ActionError(.permanent, "the query's value is not a number")
            }
            return number
        }
        return try range.check(count).outputs(enforce: DataCheckSession.enforce(invocation))
    }
}

/// The acceptable values of a row count (pure).
struct RowCountRange: Sendable, Equatable, CustomStringConvertible {
    var minimum: Double?
    var maximum: Double?
    var expected: Double?
    var tolerancePercent: Double

    init?(_ arguments: [String: RunValue]) {
        func number(_ key: String) -> Double? {
            switch arguments[key] {
            case .int(let value)?: return Double(value)
            case .double(let value)?: return value
            default: return nil
            }
        }
        minimum = number("min")
        maximum = number("max")
        expected = number("expected")
        tolerancePercent = number("tolerance_percent") ?? 0
        if minimum == nil && maximum == nil && expected == nil { return nil }
    }

    func check(_ count: Double) -> DataCheckResult {
        let shown = Self.format(count)
        let measured: [String: RunValue] = ["count": count.rounded() == count && abs(count) < 9e15 ? .int(Int(count)) : .double(count)]
        if let minimum, count < minimum {
            return DataCheckResult(passed: false, detail: "count \(shown) is below min \(Self.format(minimum))", measurements: measured)
        }
        if let maximum, count > maximum {
            return DataCheckResult(passed: false, detail: "count \(shown) is above max \(Self.format(maximum))", measurements: measured)
        }
        if let expected {
            let allowed = abs(expected) * tolerancePercent / 100
            if abs(count - expected) > allowed {
                return DataCheckResult(passed: false, detail: "count \(shown) differs from expected \(Self.format(expected)) by more than \(Self.format(tolerancePercent))%", measurements: measured)
            }
        }
        return DataCheckResult(passed: true, detail: "count \(shown) is within \(description)", measurements: measured)
    }

    var description: String {
        var bounds: [String] = []
        if let minimum { bounds.append("min \(Self.format(minimum))") }
        if let maximum { bounds.append("max \(Self.format(maximum))") }
        if let expected { bounds.append("expected \(Self.format(expected)) ± \(Self.format(tolerancePercent))%") }
        return bounds.joined(separator: ", ")
    }

    static func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 9e15 ? String(Int(value)) : String(value)
    }
}
