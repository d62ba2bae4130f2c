import Foundation

/// Where `--state` (or `DRCTL_STATE_URL`) points: a SQLite file, or a PostgreSQL database given as
/// a URL or as a libpq conninfo string (`host=db.internal dbname=drctl user=drctl`,
/// https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNSTRING).
///
/// A conninfo is never taken for a file name: that would create a SQLite file named after it,
/// password included. Text that starts like one (`word=`) is a conninfo when the word is a libpq
/// keyword and refused otherwise; a file whose name starts that way is reached as `./NAME` or
/// `sqlite://NAME`.
public enum StateLocation: Sendable, Equatable {
    case sqlite(path: String)
    /// A `postgres://` / `postgresql://` URL or a conninfo string, as libpq reads it.
    case postgres(String)

    public static func parse(_ text: String) throws -> StateLocation {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") { return .postgres(text) }
        if text.hasPrefix("sqlite://") { return .sqlite(path: String(text.dropFirst("sqlite://".count))) }
        guard let keyword = leadingKeyword(text) else { return .sqlite(path: text) }
        guard ConnectionTarget.libpqKeywords.contains(keyword) else {
            // Only the keyword is shown: the rest may be a password.
            throw StateStoreError(.open, """
                the state location starts like a libpq conninfo (\(keyword)=…), but '\(keyword)' is not a libpq keyword \
                (host, port, dbname, user, password, sslmode, …); for a SQLite file of that name write ./NAME or sqlite://NAME
                """)
        }
        return .postgres(text)
    }

    /// `word` when `text` starts with `word=` (spaces allowed around `=`), as a conninfo does.
    private static func leadingKeyword(_ text: String) -> String? {
        let trimmed = text.drop { $0 == " " || $0 == "\t" }
        let word = trimmed.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        guard let first = word.first, first.isLetter || first == "_" else { return nil }
        let rest = trimmed.dropFirst(word.count).drop { $0 == " " || $0 == "\t" }
        return rest.first == "=" ? String(word) : nil
    }
}
