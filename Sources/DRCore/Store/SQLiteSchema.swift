/// The state store's schema as an ordered list of migrations. The version a file is at lives in
/// `PRAGMA user_version` (https://www.sqlite.org/pragma.html#pragma_user_version); migration N
/// takes a file from version N-1 to N. Append migrations; never edit one that has shipped.
///
/// Times are unix seconds as REAL (sub-second precision, readable with
/// `datetime(at, 'unixepoch', 'subsec')`); `detail` and `inputs` are JSON text of `RunValue`s.
/// The PostgreSQL store uses the same tables and columns.
enum SQLiteSchema {
    static let migrations: [String] = [
        // 1: runs, their journal, single-flight leases.
        """
        CREATE TABLE runs (
            id             TEXT PRIMARY KEY NOT NULL,
            runbook_name   TEXT NOT NULL,
            runbook_path   TEXT NOT NULL,
            runbook_digest TEXT NOT NULL,
            runbook_text   TEXT NOT NULL,
            inputs         TEXT NOT NULL,
            status         TEXT NOT NULL,
            created_at     REAL NOT NULL,
            updated_at     REAL NOT NULL,
            started_by     TEXT NOT NULL,
            host           TEXT NOT NULL,
            mode           TEXT NOT NULL,
            lock_scope     TEXT NOT NULL
        );
        CREATE INDEX runs_by_created ON runs (created_at);
        CREATE INDEX runs_by_status_created ON runs (status, created_at);

        CREATE TABLE journal (
            run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            seq     INTEGER NOT NULL,
            at      REAL NOT NULL,
            kind    TEXT NOT NULL,
            step_id TEXT,
            attempt INTEGER,
            detail  TEXT NOT NULL,
            UNIQUE (run_id, seq)
        );
        -- `resume` looks for a step's intent without an outcome.
        CREATE INDEX journal_by_step ON journal (run_id, step_id, kind);

        CREATE TABLE leases (
            scope       TEXT PRIMARY KEY NOT NULL,
            run_id      TEXT NOT NULL,
            holder      TEXT NOT NULL,
            host        TEXT NOT NULL,
            pid         INTEGER NOT NULL,
            acquired_at REAL NOT NULL,
            expires_at  REAL NOT NULL
        );
        """,
        // 2: a client-generated id per journal entry, so that an append retried after an answer
        // that never arrived (its commit did happen) finds its entries instead of writing them twice.
        // Entries written before have none (NULL is not a duplicate).
        """
        ALTER TABLE journal ADD COLUMN entry_id TEXT;
        CREATE UNIQUE INDEX journal_by_entry_id ON journal (entry_id);
        """,
    ]

    static var latestVersion: Int { migrations.count }

    /// Brings the file to `latestVersion`, each migration and its version bump in one transaction.
    /// Refuses a file from a newer drctl: this build cannot know what that schema means.
    static func migrate(_ connection: SQLiteConnection) throws {
        // Most opens find the schema current; check without taking the write lock.
        if try checkedVersion(connection) == latestVersion { return }
        try connection.writeTransaction {
            // Re-read under the lock: another process may have migrated meanwhile.
            let current = try checkedVersion(connection)
            for version in current..<latestVersion {
                try connection.executeScript(migrations[version])
                // PRAGMA takes no bound parameters; the value is this build's own integer.
                try connection.execute("PRAGMA user_version = \(version + 1)")
            }
        }
    }

    static func version(_ connection: SQLiteConnection) throws -> Int {
        Int(try connection.queryFirst("PRAGMA user_version") { $0.int64(0) } ?? 0)
    }

    private static func checkedVersion(_ connection: SQLiteConnection) throws -> Int {
        let current = try version(connection)
        guard current <= latestVersion else { throw NewerSchema(found: current, supported: latestVersion) }
        return current
    }

    struct NewerSchema: Error {
        let found: Int
        let supported: Int
    }
}
