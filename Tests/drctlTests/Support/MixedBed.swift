import DRCore
import Foundation
import Testing

/// PostgreSQL pairs for tests that promote (irreversible): copies of one stopped template pair
/// (`postgres.sh clone`, about a second each, where initdb + pg_basebackup take many), each on its
/// own ports, stopped and deleted by `stopPrivate`. The template is made once per test process
/// and deleted when it exits.
enum PostgresPairTemplate {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var directory: String?

    /// A fresh primary + streaming standby on timeline 1. Blocking: call it from `onOwnThread`.
    static func clone() throws -> PostgresBed {
        let template = try templateDirectory()
        let directory = "/tmp/drctl-pgc-\(UInt32.random(in: 0...UInt32.max))"
        let status = try PostgresBed.spawnAndWait(["/bin/bash", PostgresBed.script, "clone", template, directory, "--ttl", "900"],
                                                  output: directory + ".log")
        defer { try? FileManager.default.removeItem(atPath: directory + ".log") }
        guard status == 0 else {
            Issue.record("postgres.sh clone failed: \((try? String(contentsOfFile: directory + ".log", encoding: .utf8)) ?? "")")
            throw CancellationError()
        }
        return try PostgresBed.load(directory)
    }

    private static func templateDirectory() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let directory { return directory }
        let made = "/tmp/drctl-pgt-\(UInt32.random(in: 0...UInt32.max))"
        let started = try PostgresBed.spawnAndWait(["/bin/bash", PostgresBed.script, "start", made, "--ttl", "900"], output: made + ".log")
        // Stopped (and its watchdog with it): a pair is copied only while its servers are down.
        let stopped = try PostgresBed.spawnAndWait(["/bin/bash", PostgresBed.script, "stop", made], output: "/dev/null")
        guard started == 0, stopped == 0 else {
            Issue.record("the template PostgreSQL pair did not start: \((try? String(contentsOfFile: made + ".log", encoding: .utf8)) ?? "")")
            throw CancellationError()
        }
        try? FileManager.default.removeItem(atPath: made + ".log")
        directory = made
        atexit { PostgresPairTemplate.remove() }
        return made
    }

    private static func remove() {
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }
}

extension PostgresBed {
    /// `pg_ctl stop` (fast) of this pair's primary: the old site is down.
    func stopPrimary() throws {
        let status = try Self.spawnAndWait(["/usr/sbin/runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D",
                                            "\(directory)/primary", "-m", "fast", "-w", "-t", "60", "stop"], output: "/dev/null")
        #expect(status == 0, "the primary did not stop")
    }

    /// `pg_ctl restart` (fast) of this pair's standby: it forgets when it last replayed a commit.
    func restartStandby() throws {
        let status = try Self.spawnAndWait(["/usr/sbin/runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D",
                                            "\(directory)/standby", "-l", "\(directory)/standby.log", "-m", "fast", "-w", "-t", "60", "restart"],
                                           output: "/dev/null")
        #expect(status == 0, "the standby did not restart")
    }

    /// One statement as the superuser through the pair's unix socket on `port` (trust auth); its
    /// output unaligned, tuples only.
    func superuser(_ sql: String, port: String) throws -> String {
        let output = "\(directory)/psql-\(UInt32.random(in: 0...UInt32.max)).out"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let status = try Self.spawnAndWait(["/usr/sbin/runuser", "-u", "postgres", "--", "/usr/bin/psql", "-X", "-At", "-h", "\(directory)/sock",
                                            "-p", port, "-d", "drctl", "-c", sql], output: output)
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "psql \(sql): \(text)")
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var standbyPort: String { URLComponents(string: standbyURL)?.port.map(String.init) ?? "" }

    /// What a server says of itself: in recovery, and its timeline — the one it writes (its WAL
    /// file's name), and the one its control file's latest checkpoint is on (after a CHECKPOINT,
    /// so that a promotion shows there too).
    func position(port: String) throws -> (inRecovery: Bool, timeline: Int, checkpointTimeline: Int) {
        let recovery = try superuser("SELECT pg_is_in_recovery()", port: port) == "t"
        let walTimeline = recovery ? try superuser("SELECT received_tli FROM pg_stat_wal_receiver", port: port)
            : try superuser("SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)", port: port)
        if !recovery { _ = try superuser("CHECKPOINT", port: port) }
        let checkpoint = try superuser("SELECT timeline_id FROM pg_control_checkpoint()", port: port)
        return (recovery, recovery ? Int(walTimeline) ?? -1 : Int(walTimeline, radix: 16) ?? -1, Int(checkpoint) ?? -1)
    }

    /// The table the plans' data check reads, with one row written now, replicated to the standby.
    func createLedger() async throws {
        let primary = try await PostgresConnection.connect(primaryURL)
        try await primary.query("CREATE TABLE entries (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now())")
        try await primary.query("INSERT INTO entries DEFAULT VALUES")
        await primary.close()
        try await waitUntilReplayed()
    }

    /// Until the standby has replayed everything the primary wrote (bounded).
    func waitUntilReplayed() async throws {
        let primary = try await PostgresConnection.connect(primaryURL)
        let target = try await primary.query("SELECT pg_current_wal_lsn()::text").first!.decode(String.self, 0)
        await primary.close()
        let standby = try await PostgresConnection.connect(standbyURL)
        defer { Task { await standby.close() } }
        for _ in 0..<200 {
            let caughtUp = try await standby.query("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", [.text(target)]).first!.decode(Bool.self, 0)
            if caughtUp { return }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        Issue.record("the standby did not replay up to \(target) within 10 s")
    }
}

/// The AWS half of a mixed plan in the test bed (Tests/TestBed/mixed_topology.py): a hosted zone
/// with the app's record, and a warm-standby Auto Scaling group at zero in us-west-2.
struct MixedAWS {
    let prefix: String
    /// What the test bed's Python helpers read (moto's URL and keys).
    let testBedEnvironment: [String: String]

    func seed() throws {
        let result = try DrctlProcess.python(["Tests/TestBed/mixed_topology.py", "seed", prefix], environment: testBedEnvironment)
        #expect(result.status == 0, "\(result.stderr)")
    }

    /// The record's values and the group's size, read from moto (not from drctl).
    func inspect() throws -> (record: [String], desired: Int, inService: Int) {
        let result = try DrctlProcess.python(["Tests/TestBed/mixed_topology.py", "inspect", prefix], environment: testBedEnvironment)
        let state = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        let group = state["asg"] as? [String: Int] ?? [:]
        return (state["record"] as? [String] ?? [], group["desired"] ?? -1, group["in_service"] ?? -1)
    }

    /// The plan: the ledger database on the pair (URLs in LEDGER_PRIMARY_URL / LEDGER_STANDBY_URL),
    /// the record and the group in AWS.
    static func plan(prefix: String, rpo: String = "1h") -> String {
        """
        name: \(prefix)
        sites: { primary: us-east-1, dr: [ us-west-2 ] }
        budgets: { rpo: \(rpo), rto: 4h }
        postgres:
          databases:
            - name: ledger
              primary: { site: us-east-1, url_env: LEDGER_PRIMARY_URL }
              standbys: [ { site: us-west-2, url_env: LEDGER_STANDBY_URL } ]
              fence: read-only
              checks:
                - { name: recent, action: postgres.check-freshness, with: { table: entries, column: created_at, max_age: 1h } }
        aws:
          dns:
            - { zone_name: \(prefix).example.com., name: app.\(prefix).example.com., type: CNAME, ttl: 60,
                values: { us-east-1: [app-use1.\(prefix).example.com.], us-west-2: [app-usw2.\(prefix).example.com.] } }
          standby:
            us-west-2:
              autoscaling_groups: [ { group: \(prefix)-web, min: 2, max: 10, desired: 4 } ]
        """
    }

    static func databaseEnvironment(_ pair: PostgresBed) -> [String: String] {
        ["LEDGER_PRIMARY_URL": pair.primaryURL, "LEDGER_STANDBY_URL": pair.standbyURL]
    }
}
