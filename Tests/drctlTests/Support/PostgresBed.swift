import DRCore
import Foundation
import Testing

/// The test bed's PostgreSQL primary + hot standby (Tests/TestBed/postgres.sh), or a private pair
/// of one's own for tests that restart a server.
struct PostgresBed: Sendable {
    let primaryURL: String
    let standbyURL: String
    let password: String
    /// postgres.sh's directory: `sock/` holds the unix socket where `postgres` connects with trust auth.
    let directory: String
    let primaryPort: String

    static func require(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PostgresBed {
        guard let primary = environment["DRCTL_TESTBED_PG_PRIMARY_URL"], let standby = environment["DRCTL_TESTBED_PG_STANDBY_URL"],
              let password = environment["DRCTL_TESTBED_PG_PASSWORD"], let directory = environment["DRCTL_TESTBED_PG_DIR"],
              let port = environment["DRCTL_TESTBED_PG_PRIMARY_PORT"] else {
            Issue.record("the PostgreSQL test bed is not running: run scripts/test.sh, or `Tests/TestBed/postgres.sh start DIR` and source DIR/pg.env")
            throw CancellationError()
        }
        return PostgresBed(primaryURL: primary, standbyURL: standby, password: password, directory: directory, primaryPort: port)
    }

    /// A fresh, empty schema on the primary, named `prefix_<random>`.
    func freshSchema(_ prefix: String) async throws -> String {
        let schema = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
        let connection = try await PostgresConnection.connect(primaryURL)
        // Identifier from this test's own digits: no user input reaches it.
        try await connection.query("CREATE SCHEMA \(schema)")
        await connection.close()
        return schema
    }

    /// `url` with its `search_path` set to `schema` (and more query parameters).
    static func url(_ url: String, schema: String, extra: String = "") -> String {
        "\(url)?options=-csearch_path%3D\(schema)\(extra)"
    }

    /// `psql` as the superuser through the bed's unix socket (trust auth: no password anywhere).
    func superuserPSQL(_ sql: String) -> String {
        "/usr/bin/psql -X -q -h \(directory)/sock -p \(primaryPort) -U postgres -d drctl -c \"\(sql)\""
    }

    // MARK: A private pair

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TestBed/postgres.sh").path
    }

    /// Starts a primary + standby of one's own in a temp dir (stop it with `stopPrivate`).
    static func startPrivate() throws -> PostgresBed {
        let directory = "/tmp/drctl-cli-pg-\(UInt32.random(in: 0...UInt32.max))"
        let status = try Self.spawnAndWait(["/bin/bash", script, "start", directory, "--ttl", "900"], output: directory + ".log")
        defer { try? FileManager.default.removeItem(atPath: directory + ".log") }
        guard status == 0 else { throw CancellationError() }
        return try load(directory)
    }

    /// The pair postgres.sh started (or cloned) in `directory`, from its pg.env.
    static func load(_ directory: String) throws -> PostgresBed {
        let text = try String(contentsOfFile: directory + "/pg.env", encoding: .utf8)
        var environment: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            environment[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
        }
        return try require(environment)
    }

    func stopPrivate() {
        _ = try? Self.spawnAndWait(["/bin/bash", Self.script, "stop", directory], output: "/dev/null")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `pg_ctl restart` (fast shutdown) of this bed's primary, as postgres.sh runs its servers.
    var restartPrimaryArguments: [String] {
        ["/usr/sbin/runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D", "\(directory)/primary",
         "-l", "\(directory)/primary.log", "-m", "fast", "-w", "-t", "60", "restart"]
    }

    /// posix_spawn + waitpid, output to a file. Not Foundation's `Process`: postgres.sh leaves
    /// servers running that inherit its descriptors, and `Process` would wait for them too.
    static func spawnAndWait(_ arguments: [String], output: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of the test process: servers left running would otherwise hold the write
        // ends of pipes other threads read to EOF (a drctl's or a Python helper's output).
        closeFrom(3, &actions)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, arguments[0], &actions, nil, argv, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
    }
}

/// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34), which Swift's Glibc module does not export.
private func closeFrom(_ lowest: Int32, _ actions: inout posix_spawn_file_actions_t) {
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return }   // nil: RTLD_DEFAULT (glibc)
    _ = unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, lowest)
}

/// Runs blocking work (waiting for a process) on a thread of its own, so that it does not hold
/// one of the few threads every test's async code shares.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
