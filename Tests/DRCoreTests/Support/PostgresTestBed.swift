@testable import DRCore
import Foundation
import Testing

/// The PostgreSQL 15 primary + streaming hot standby of the test bed (Tests/TestBed/postgres.sh,
/// started by testbed.sh). Tests that need it fail with a clear message when it is not running.
struct PostgresTestBed: Sendable {
    let primaryURL: String
    let standbyURL: String
    let password: String
    /// The bed's directory: its `sock/` holds the unix socket where `postgres` (superuser) connects
    /// with trust auth.
    let directory: String
    let primaryPort: String
    let standbyPort: String

    static func require(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PostgresTestBed {
        guard let primary = environment["DRCTL_TESTBED_PG_PRIMARY_URL"], let standby = environment["DRCTL_TESTBED_PG_STANDBY_URL"],
              let password = environment["DRCTL_TESTBED_PG_PASSWORD"], let directory = environment["DRCTL_TESTBED_PG_DIR"] else {
            Issue.record("the PostgreSQL test bed is not running: run scripts/test.sh, or `Tests/TestBed/postgres.sh start DIR` and source DIR/pg.env")
            throw PostgresTestBedMissing()
        }
        return PostgresTestBed(primaryURL: primary, standbyURL: standby, password: password, directory: directory,
                               primaryPort: environment["DRCTL_TESTBED_PG_PRIMARY_PORT"] ?? "",
                               standbyPort: environment["DRCTL_TESTBED_PG_STANDBY_PORT"] ?? "")
    }

    /// Superuser on the primary through the bed's private unix socket.
    var primarySuperuser: String { "host=\(directory)/sock port=\(primaryPort) user=postgres dbname=drctl" }
    var standbySuperuser: String { "host=\(directory)/sock port=\(standbyPort) user=postgres dbname=drctl" }

    /// A fresh, empty schema on the primary and a URL whose `search_path` is it, so that tests of
    /// the store never see each other's tables.
    func freshSchemaURL(_ prefix: String = "t") async throws -> (url: String, schema: String) {
        let schema = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
        let connection = try await PostgresConnection.connect(primaryURL)
        // Identifier from this test's own digits: no user input reaches it.
        try await connection.query("CREATE SCHEMA \(schema)")
        await connection.close()
        return ("\(primaryURL)?options=-csearch_path%3D\(schema)", schema)
    }

    /// The repository's Tests/TestBed directory.
    static var scriptsDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TestBed")
    }
}

struct PostgresTestBedMissing: Error {}

/// A primary + standby pair of one's own (postgres.sh in a temp dir), for tests that promote or
/// fence: they must not change the shared bed other suites use. Stopped and deleted by `stop()`.
struct PrivatePostgresPair: Sendable {
    let bed: PostgresTestBed

    static func start() throws -> PrivatePostgresPair {
        let directory = "/tmp/drctl-pg-\(UInt32.random(in: 0...UInt32.max))"
        let script = PostgresTestBed.scriptsDirectory.appendingPathComponent("postgres.sh").path
        let status = try spawnAndWait(["/bin/bash", script, "start", directory, "--ttl", "900"], output: directory + ".log")
        defer { try? FileManager.default.removeItem(atPath: directory + ".log") }
        guard status == 0 else {
            throw ToolFailure(command: ["postgres.sh", "start", directory], output: (try? String(contentsOfFile: directory + ".log", encoding: .utf8)) ?? "")
        }
        let text = try String(contentsOfFile: directory + "/pg.env", encoding: .utf8)
        var environment: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            environment[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
        }
        return PrivatePostgresPair(bed: try PostgresTestBed.require(environment))
    }

    func stop() {
        let script = PostgresTestBed.scriptsDirectory.appendingPathComponent("postgres.sh").path
        _ = try? spawnAndWait(["/bin/bash", script, "stop", bed.directory], output: "/dev/null")
        try? FileManager.default.removeItem(atPath: bed.directory)
    }
}

/// posix_spawn + waitpid, output to a file. Not Foundation's `Process`: postgres.sh leaves servers
/// running that inherit its descriptors, and `Process` waits for its exit-notification descriptor
/// to close — that is, for the servers to stop too.
func spawnAndWait(_ arguments: [String], output: String) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
    guard rc == 0 else { throw ToolFailure(command: arguments, output: "posix_spawn failed: \(rc)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    // WIFEXITED/WEXITSTATUS are macros Swift does not import.
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
}
