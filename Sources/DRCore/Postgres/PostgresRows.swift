import Foundation

/// A statement's result, copied out of libpq's `PGresult` (text format): column names and type
/// OIDs, the rows, and how many rows the command affected.
public struct PostgresRows: Sendable {
    public let columns: [String]
    public let columnTypes: [UInt32]
    public let rows: [PostgresRow]
    /// `PQcmdTuples`: rows inserted/updated/deleted, or returned by a SELECT.
    public let affectedRows: Int
    let target: String

    public var first: PostgresRow? { rows.first }
    public var count: Int { rows.count }
}

/// One result row. Columns are addressed by position or by name; values decode from the text
/// format to `String`, `Int`, `Int64`, `Double`, `Bool` or `Date`.
public struct PostgresRow: Sendable {
    let values: [String?]
    let columns: [String]
    let target: String

    public func isNull(_ column: Int) -> Bool { values[column] == nil }

    /// The raw text of a column (nil for SQL NULL).
    public func text(_ column: Int) -> String? { values[column] }

    /// The column decoded as `T`; SQL NULL or text that is not a `T` is a `.decoding` error.
    public func decode<T: PostgresDecodable>(_ type: T.Type, _ column: Int) throws -> T {
        guard let value = try decodeIfPresent(type, column) else {
            throw PostgresError(kind: .decoding, message: "column \(name(column)) is NULL, expected \(T.self)", target: target)
        }
        return value
    }

    /// The column decoded as `T`, nil for SQL NULL.
    public func decodeIfPresent<T: PostgresDecodable>(_ type: T.Type, _ column: Int) throws -> T? {
        guard column < values.count else {
            throw PostgresError(kind: .decoding, message: "no column \(column) (the result has \(values.count))", target: target)
        }
        guard let text = values[column] else { return nil }
        guard let value = T(postgresText: text) else {
            // The value itself is not quoted: it is data and may be sensitive.
            throw PostgresError(kind: .decoding, message: "column \(name(column)) is not a \(T.self)", target: target)
        }
        return value
    }

    public func decode<T: PostgresDecodable>(_ type: T.Type, _ column: String) throws -> T {
        try decode(type, index(of: column))
    }

    public func decodeIfPresent<T: PostgresDecodable>(_ type: T.Type, _ column: String) throws -> T? {
        try decodeIfPresent(type, index(of: column))
    }

    private func index(of column: String) throws -> Int {
        guard let index = columns.firstIndex(of: column) else {
            throw PostgresError(kind: .decoding, message: "no column \(column) in the result (\(columns.joined(separator: ", ")))", target: target)
        }
        return index
    }

    private func name(_ column: Int) -> String {
        column < columns.count ? "\(column + 1) (\(columns[column]))" : "\(column + 1)"
    }
}
