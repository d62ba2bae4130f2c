import DRCore
import Foundation
import Testing

/// `drctl failover` of a mixed plan (Runbooks/examples/mixed-postgres-aws.yaml): the database is
/// self-managed PostgreSQL — a private primary + streaming standby of each test's own, since a
/// promotion cannot be undone — and traffic and capacity are AWS (a Route 53 record and an Auto
/// Scaling group in the test bed's moto, under each test's own prefix). Asserts on the servers
/// and on moto, not on drctl's word.
@Suite(.serialized)
struct MixedFailoverTests {
    struct Bed {
        let pair: PostgresBed
        let aws: MixedAWS
        let home: TemporaryHome
        let awsEnvironment: [String: String]

        static func make(rpo: String = "1h") async throws -> Bed {
            let env = ProcessInfo.processInfo.environment
            guard let moto = env["DRCTL_TESTBED_MOTO_URL"], let key = env["DRCTL_TESTBED_ACCESS_KEY_ID"],
                  let secret = env["DRCTL_TESTBED_SECRET_ACCESS_KEY"] else {
                Issue.record("the test bed is not running: run scripts/test.sh")
                throw CancellationError()
            }
            let prefix = "mx\(UInt32.random(in: 0...UInt32.max) % 1_000_000)"
            let aws = MixedAWS(prefix: prefix, testBedEnvironment: ["DRCTL_TESTBED_MOTO_URL": moto, "DRCTL_TESTBED_ACCESS_KEY_ID": key,
                                                                    "DRCTL_TESTBED_SECRET_ACCESS_KEY": secret])
            async let seeded: Void = onOwnThread { try aws.seed() }
            let pair = try await onOwnThread { try PostgresPairTemplate.clone() }
            try await seeded
            try await pair.createLedger()
            let home = try TemporaryHome()
            try home.write("drplan.yaml", MixedAWS.plan(prefix: prefix, rpo: rpo))
            // Straight to moto: no fault rules of other suites on the way.
            return Bed(pair: pair, aws: aws, home: home,
                       awsEnvironment: ["AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_ENDPOINT_URL": moto, "AWS_REGION": "us-east-1"])
        }

        var statePath: String { home.url.appendingPathComponent("state.db").path }

        func failover(_ more: String...) throws -> DrctlProcess.Result {
            try DrctlProcess.run(["failover", "--to", "us-west-2", "--plan", home.url.appendingPathComponent("drplan.yaml").path,
                                  "--state", statePath, "--yes"] + more,
                                 environment: awsEnvironment.merging(MixedAWS.databaseEnvironment(pair)) { $1 }, home: home.url)
        }

        func journal() throws -> String {
            let runs = try DrctlProcess.run(["runs", "--state", statePath, "--output", "json"], home: home.url)
            let id = ((try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]])?.first?["id"] as? String) ?? ""
            return try DrctlProcess.run(["show", id, "--journal", "--state", statePath], home: home.url).stdout
        }

        /// A write on a new connection as drctl's role (not a superuser, whom no fence holds back).
        func write(_ url: String) async -> PostgresError? {
            do {
                let connection = try await PostgresConnection.connect(url)
                defer { Task { await connection.close() } }
                try await connection.query("INSERT INTO entries DEFAULT VALUES")
                return nil
            } catch let error as PostgresError {
                return error
            } catch {
                return PostgresError(kind: .connectionFailed, message: "\(error)", target: "test")
            }
        }
    }

    @Test func aMixedFailoverFencesPromotesChecksMovesTheRecordAndScalesUpInOneRun() async throws {
        let bed = try await Bed.make()
        defer { bed.pair.stopPrivate() }
        let result = try bed.failover()
        let output = result.stdout + result.stderr
        #expect(result.status == 0, "\(output)")
        #expect(result.stdout.contains(": succeeded") && result.stdout.contains("RTO measured"), "\(result.stdout)")
        #expect(result.stdout.contains("fence-ledger: confirmed"), "\(result.stdout)")
        #expect(result.stdout.contains("step check-ledger-recent succeeded"), "\(result.stdout)")

        // The old primary refuses writes (read-only: SQLSTATE 25006).
        let refused = await bed.write(bed.pair.primaryURL)
        #expect(refused?.sqlState == "25006", "a write on the fenced primary: \(refused.map(String.init(describing:)) ?? "accepted")")
        // The standby is a primary on the next timeline, and takes writes.
        let promoted = try bed.pair.position(port: bed.pair.standbyPort)
        #expect(!promoted.inRecovery && promoted.timeline == 2 && promoted.checkpointTimeline == 2, "\(promoted)")
        #expect(await bed.write(bed.pair.standbyURL) == nil)
        let aws = try bed.aws.inspect()
        #expect(aws.record == ["app-usw2.\(bed.aws.prefix).example.com."], "\(aws)")
        #expect(aws.desired == 4 && aws.inService == 4, "\(aws)")
        // The servers' password is in their URLs, which only the environment holds.
        let journal = try bed.journal()
        for text in [result.stdout, result.stderr, journal] {
            #expect(!text.contains(bed.pair.password), "the password leaked")
        }
        #expect(journal.contains("LEDGER_STANDBY_URL"), "\(journal)")
    }

    @Test func withTheOldPrimaryDownTheFenceIsUnconfirmedAndTheMoveEndsDegraded() async throws {
        let bed = try await Bed.make()
        defer { bed.pair.stopPrivate() }
        try bed.pair.stopPrimary()
        // No --accept-data-loss: the standby's newest replayed commit bounds the loss (seconds here).
        let result = try bed.failover()
        let output = result.stdout + result.stderr
        #expect(result.status == 13, "\(output)")
        #expect(result.stdout.contains("fence-ledger: fencing NOT confirmed"), "\(result.stdout)")
        #expect(result.stdout.contains("Summary of run-") && result.stdout.contains(": degraded"), "\(result.stdout)")
        #expect(result.stderr.contains("DEGRADED"), "\(result.stderr)")
        #expect(!result.stdout.contains("RPO expected: unknown"), "\(result.stdout)")
        let promoted = try bed.pair.position(port: bed.pair.standbyPort)
        #expect(!promoted.inRecovery && promoted.timeline == 2, "\(promoted)")
        let aws = try bed.aws.inspect()
        #expect(aws.record == ["app-usw2.\(bed.aws.prefix).example.com."], "\(aws)")
        #expect(aws.desired == 4, "\(aws)")
    }

    @Test func aStandbyWhoseReplayIsPausedBeyondTheRPOIsRefusedUnlessTheLossIsAccepted() async throws {
        let bed = try await Bed.make(rpo: "2s")
        defer { bed.pair.stopPrivate() }
        // drctl's role may pause replay (postgres.sh grants it); a write after the pause stays unreplayed.
        let standby = try await PostgresConnection.connect(bed.pair.standbyURL)
        try await standby.query("SELECT pg_wal_replay_pause()")
        await standby.close()
        let primary = try await PostgresConnection.connect(bed.pair.primaryURL)
        try await primary.query("INSERT INTO entries DEFAULT VALUES")
        await primary.close()
        try await Task.sleep(nanoseconds: 3_000_000_000)

        let refused = try bed.failover()
        #expect(refused.status == 4, "\(refused.stdout)\n\(refused.stderr)")
        #expect(refused.stderr.contains("refusing: expected data loss") && refused.stderr.contains("over the RPO budget of 2s"), "\(refused.stderr)")
        #expect(refused.stdout.contains("database ledger replication lag: 3s") || refused.stdout.contains("database ledger replication lag: 4s"),
                "\(refused.stdout)")
        #expect(try bed.pair.position(port: bed.pair.standbyPort).inRecovery)
        let untouched = try bed.aws.inspect()
        #expect(untouched.record == ["app-use1.\(bed.aws.prefix).example.com."] && untouched.desired == 0, "\(untouched)")
        #expect(await bed.write(bed.pair.primaryURL) == nil, "refused, yet the primary was fenced")

        let accepted = try bed.failover("--accept-data-loss", "1h")
        #expect(accepted.status == 0, "\(accepted.stdout)\n\(accepted.stderr)")
        #expect(accepted.stdout.contains("data loss accepted: up to 1h"), "\(accepted.stdout)")
        let promoted = try bed.pair.position(port: bed.pair.standbyPort)
        #expect(!promoted.inRecovery && promoted.timeline == 2, "\(promoted)")
        #expect(try bed.aws.inspect().record == ["app-usw2.\(bed.aws.prefix).example.com."])
    }

    @Test func aStandbyBehindWithNoCommitReplayedSinceItStartedMakesTheLossUnknownAndAcceptable() async throws {
        let bed = try await Bed.make()
        defer { bed.pair.stopPrivate() }
        // Restarted from a restartpoint past every commit, then paused before it replays anything:
        // behind by bytes, with nothing to date its data by.
        _ = try bed.pair.superuser("CHECKPOINT", port: bed.pair.primaryPort)
        try await bed.pair.waitUntilReplayed()
        _ = try bed.pair.superuser("CHECKPOINT", port: bed.pair.standbyPort)
        try bed.pair.restartStandby()
        let standby = try await PostgresConnection.connect(bed.pair.standbyURL)
        try await standby.query("SELECT pg_wal_replay_pause()")
        await standby.close()
        let primary = try await PostgresConnection.connect(bed.pair.primaryURL)
        try await primary.query("INSERT INTO entries DEFAULT VALUES")
        await primary.close()

        let refused = try bed.failover()
        #expect(refused.status == 4, "\(refused.stdout)\n\(refused.stderr)")
        #expect(refused.stderr.contains("expected data loss unknown (ledger: the standby is behind and has replayed no commit since it started)")
                && refused.stderr.contains("Pass --accept-data-loss 1h1m"), "\(refused.stderr)")
        #expect(refused.stdout.contains("replication lag: unknown:") && refused.stdout.contains("(replay is paused)"), "\(refused.stdout)")
        #expect(try bed.pair.position(port: bed.pair.standbyPort).inRecovery)

        let accepted = try bed.failover("--accept-data-loss", "1h")
        #expect(accepted.status == 0, "\(accepted.stdout)\n\(accepted.stderr)")
        #expect(accepted.stdout.contains("RPO expected: unknown") && accepted.stdout.contains("data loss accepted: up to 1h"), "\(accepted.stdout)")
        let promoted = try bed.pair.position(port: bed.pair.standbyPort)
        #expect(!promoted.inRecovery && promoted.timeline == 2, "\(promoted)")
    }
}
