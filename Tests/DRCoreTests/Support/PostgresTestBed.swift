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
/// fence: they must not change the shared bed other suites use. Use `with`: it stops and deletes
/// the pair whether the body returns or throws.
struct PrivatePostgresPair: Sendable {
    let bed: PostgresTestBed

    static func with<Result>(_ body: (PrivatePostgresPair) async throws -> Result) async throws -> Result {
        let pair = try await start()
        do {
            let result = try await body(pair)
            await pair.stop()
            return result
        } catch {
            await pair.stop()
            throw error
        }
    }

    private static func start() async throws -> PrivatePostgresPair {
        let directory = "/tmp/drctl-pg-\(UInt32.random(in: 0...UInt32.max))"
        let script = PostgresTestBed.scriptsDirectory.appendingPathComponent("postgres.sh").path
        let status = try await spawnAndWait(["/bin/bash", script, "start", directory, "--ttl", "900"], output: directory + ".log")
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

    private func stop() async {
        let script = PostgresTestBed.scriptsDirectory.appendingPathComponent("postgres.sh").path
        _ = try? await spawnAndWait(["/bin/bash", script, "stop", bed.directory], output: "/dev/null")
        try? FileManager.default.removeItem(atPath: bed.directory)
    }
}
