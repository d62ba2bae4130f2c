import Foundation

/// A table or column name from a runbook, validated and quoted before it reaches SQL text.
/// Identifiers cannot be bound as `$n` parameters, so they are the one place where runbook text
/// becomes part of a statement: only plain names (`orders`, `sales.orders`) are accepted, and
/// they are always emitted double-quoted, as `quote_ident` would
/// (https://www.postgresql.org/docs/15/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS).
/// Quoting keeps the name literal: `Orders` names the table `"Orders"`, not `orders`.
public struct SQLIdentifier: Sendable, Equatable, CustomStringConvertible {
    /// The name's parts: one (`table`) or, for a qualified name, two (`schema.table`).
    public let parts: [String]

    /// Refuses anything but one or two dot-separated parts, each a letter or underscore followed
    /// by letters, digits, `_` or `$`, at most 63 bytes (NAMEDATALEN - 1).
    public init(_ text: String, what: String = "table", allowQualified: Bool = true) throws {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !parts.isEmpty, parts.count <= (allowQualified ? 2 : 1), parts.allSatisfy(Self.isPlainName) else {
            // The text is not echoed whole: it is runbook input that failed validation.
            throw ActionError(.permanent, "\(what) name is not a plain identifier (letters, digits, _ or $\(allowQualified ? ", optionally schema-qualified" : "")); refused without running any SQL")
        }
        self.parts = parts
    }

    /// The name as SQL text: each part double-quoted, embedded quotes doubled.
    public var quoted: String {
        parts.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ".")
    }

    public var description: String { parts.joined(separator: ".") }

    static func isPlainName(_ part: String) -> Bool {
        guard let first = part.unicodeScalars.first, part.utf8.count <= 63 else { return false }
        func letter(_ scalar: Unicode.Scalar) -> Bool { ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_" }
        return letter(first) && part.unicodeScalars.allSatisfy { letter($0) || ("0"..."9").contains($0) || $0 == "$" }
    }
}
