/// The PostgreSQL store's schema: the same tables, columns and meanings as `SQLiteSchema` (times
/// are unix seconds as `double precision`, `detail`/`inputs` JSON text of `RunValue`s), as an
/// ordered list of migrations. Applied versions are rows of `drctl_schema_migrations`; migration
/// N takes the database from version N-1 to N. Append migrations; never edit one that has shipped.
enum PostgresSchema {
    static let migrations: [[String]] = [
        // 1: runs, their journal, single-flight leases (one statement per entry: PQexecParams
        // takes one statement at a time).
        [
            """
            CREATE TABLE runs (
                id             text PRIMARY KEY,
                runbook_name   text NOT NULL,
                runbook_path   text NOT NULL,
                runbook_digest text NOT NULL,
                runbook_text   text NOT NULL,
                inputs         text NOT NULL,
                status         text NOT NULL,
                created_at     double precision NOT NULL,
                updated_at     double precision NOT NULL,
                started_by     text NOT NULL,
                host           text NOT NULL,
                mode           text NOT NULL,
                lock_scope     text NOT NULL
            )
            """,
            "CREATE INDEX runs_by_created ON runs (created_at)",
            "CREATE INDEX runs_by_status_created ON runs (status, created_at)",
            """
            CREATE TABLE journal (
                run_id  text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                seq     bigint NOT NULL,
                at      double precision NOT NULL,
                kind    text NOT NULL,
                step_id text,
                attempt bigint,
                detail  text NOT NULL,
                UNIQUE (run_id, seq)
            )
            """,
            // `resume` looks for a step's intent without an outcome.
            "CREATE INDEX journal_by_step ON journal (run_id, step_id, kind)",
            """
            CREATE TABLE leases (
                scope       text PRIMARY KEY,
                run_id      text NOT NULL,
                holder      text NOT NULL,
                host        text NOT NULL,
                pid         bigint NOT NULL,
                acquired_at double precision NOT NULL,
                expires_at  double precision NOT NULL
            )
            """,
        ],
        // 2: a client-generated id per journal entry, so that an append retried after an answer
        // that never arrived (its commit did happen) finds its entries instead of writing them twice.
        [
            "ALTER TABLE journal ADD COLUMN entry_id text",
            "CREATE UNIQUE INDEX journal_by_entry_id ON journal (entry_id)",
        ],
    ]

    static var latestVersion: Int { migrations.count }

    /// Serializes migrations of one database across drctl processes and hosts.
    static let migrationLockKey = "drctl.schema-migrations"

    /// Brings the database (the connection's `search_path` schema) to `latestVersion`: all of it in
    /// one transaction under an advisory lock, so two drctl processes starting at once neither race
    /// nor see half a schema. Refuses a database migrated by a newer drctl.
    static func migrate(_ session: PostgresSession) throws -> Int {
        // Most opens find the schema current: no DDL, no lock.
        let existing = try existingVersion(session)
        if existing == latestVersion { return existing }
        return try session.transaction {
            try session.query("SELECT pg_advisory_xact_lock(hashtext($1))", [.text(migrationLockKey)])
            try session.query("""
                CREATE TABLE IF NOT EXISTS drctl_schema_migrations (
                    version    integer PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            let current = try version(session)
            guard current <= latestVersion else { throw NewerSchema(found: current, supported: latestVersion) }
            for version in current..<latestVersion {
                for statement in migrations[version] { try session.query(statement) }
                try session.query("INSERT INTO drctl_schema_migrations (version) VALUES ($1)", [.int(Int64(version + 1))])
            }
            return current
        }
    }

    /// The version without creating anything: 0 when the `search_path` has no drctl tables yet.
    /// Throws `NewerSchema` for a database migrated by a newer drctl.
    static func existingVersion(_ session: PostgresSession) throws -> Int {
        let exists = try session.query("SELECT to_regclass('drctl_schema_migrations') IS NOT NULL").first?.decode(Bool.self, 0) ?? false
        guard exists else { return 0 }
        let current = try version(session)
        guard current <= latestVersion else { throw NewerSchema(found: current, supported: latestVersion) }
        return current
    }

    static func version(_ session: PostgresSession) throws -> Int {
        try session.query("SELECT COALESCE(MAX(version), 0) FROM drctl_schema_migrations").first?.decode(Int.self, 0) ?? 0
    }

    struct NewerSchema: Error {
        let found: Int
        let supported: Int
    }
}
