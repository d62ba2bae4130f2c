import DRCore
import Foundation
import Testing

/// After a crash, a move of the plan is continued, not started twice; a plan already moved has
/// nothing to do; the operator's output (summary, JSON Lines, errors) is the same however the
/// move got to its end. Nested in the serialized failover suite: these tests change the test bed's
/// timings. scripts/test.sh runs this suite against a test bed of its own, beside the rest.
extension FailoverCommandTests {
    @Suite("Failover: resumed, abandoned or already done")
    struct Recovery {
        /// Starts `drctl failover` with Route 53 changes taking `insync` seconds to apply, and kills it
        /// while its DNS step waits for INSYNC (a second after the UPSERT went out). Returns the run
        /// id and the DNS step's id.
        func killDuringTheDNSWait(_ bed: Bed, insync: Double) async throws -> (run: String, dnsStep: String) {
            try await bed.resetProxy()
            try await bed.control("POST", "/_testbed/config", ["route53": ["insync": insync]], base: bed.moto)
            let first = try DrctlChild(bed.failoverArguments(), home: bed.home.url, environment: bed.environment)
            var upserts = 0
            for _ in 0..<600 where upserts == 0 {
                try await Task.sleep(for: .seconds(0.05))
                upserts = try await bed.calls("route53", "ChangeResourceRecordSets")
            }
            #expect(upserts == 1)
            try await Task.sleep(for: .seconds(1))
            #expect(first.crash(), "drctl ended before the kill")
            let dnsStep = bed.query("SELECT step_id FROM journal WHERE kind = 'step.intent' AND detail LIKE '%ChangeResourceRecordSets%'")
            #expect(bed.query("SELECT count(*) FROM journal WHERE step_id = '\(dnsStep)' AND kind = 'step.status' AND detail LIKE '%\"succeeded\"%'") == "0")
            return (try bed.runId(), dnsStep)
        }

        /// Seconds from the DNS step's UPSERT (its intent) to its success.
        func dnsWait(_ bed: Bed, _ dnsStep: String) -> Double {
            Double(bed.query("""
                SELECT (SELECT max(at) FROM journal WHERE step_id = '\(dnsStep)' AND kind = 'step.status' AND detail LIKE '%"succeeded"%')
                     - (SELECT min(at) FROM journal WHERE step_id = '\(dnsStep)' AND kind = 'step.intent')
                """)) ?? 0
        }

        @Test func aFailoverKilledWhileDNSIsPendingIsResumedToINSYNCOfTheSameChange() async throws {
            let bed = try Bed.make()
            try bed.setUp()
            let insync = 8.0
            let (id, dnsStep) = try await killDuringTheDNSWait(bed, insync: insync)
            let resumed = try bed.drctl(["resume", id, "--state", bed.statePath, "--yes"])
            try await bed.control("POST", "/_testbed/config", ["route53": ["insync": 2]], base: bed.moto)
            #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
            // Route 53 listed the new record at once; the step still waited until the change was INSYNC.
            #expect(dnsWait(bed, dnsStep) >= insync, "the DNS step succeeded \(dnsWait(bed, dnsStep))s after its UPSERT, before INSYNC (\(insync)s)")
            let outputs = bed.query("SELECT json_extract(detail, '$.change_id.string._0') || ' ' || json_extract(detail, '$.status.string._0') "
                                    + "FROM journal WHERE step_id = '\(dnsStep)' AND kind = 'step.outputs'")
            #expect(outputs.hasSuffix(" INSYNC"), "\(outputs)")
            #expect(try await bed.calls("route53", "ChangeResourceRecordSets") == 1)
            #expect(try await bed.calls("route53", "GetChange") >= 1)
        }

        @Test func aKilledFailoverIsRefusedAsASecondFailoverThenResumedOnceAndWaitsForTheJournaledDNSChange() async throws {
            let bed = try Bed.make()
            try bed.setUp()
            let insync = 8.0
            let (id, dnsStep) = try await killDuringTheDNSWait(bed, insync: insync)
            let dnsActed = "step_id = '\(dnsStep)' AND kind = 'step.outcome'"

            // Failing over again starts nothing: it names the interrupted run and how to continue it.
            let second = try bed.drctl(bed.failoverArguments())
            #expect(second.status == 7, "\(second.stdout)\n\(second.stderr)")
            #expect(second.stderr.contains("`drctl resume \(id)`"), "\(second.stderr)")
            #expect(second.stderr.contains("--abandon \(id)"), "\(second.stderr)")
            #expect(bed.query("SELECT count(*) FROM runs") == "1")

            let resumed = try bed.drctl(["resume", id, "--state", bed.statePath, "--yes"])
            #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
            // Every change exactly once, the DNS change included: the resumed step waited on its journaled id.
            // (The test plans fence by isolating the primary: ModifyDBInstance onto closed security groups, then a reboot.)
            #expect(try await bed.calls("rds", "ModifyDBInstance") == 1)
            #expect(try await bed.calls("rds", "RebootDBInstance") == 1)
            #expect(try await bed.calls("rds", "PromoteReadReplica") == 1)
            #expect(try await bed.calls("route53", "ChangeResourceRecordSets") == 1)
            let acted = bed.query("SELECT json_extract(detail, '$.acted.map._0.change_id.string._0') FROM journal WHERE \(dnsActed)")
            let outputs = bed.query("SELECT json_extract(detail, '$.change_id.string._0') || ' ' || json_extract(detail, '$.status.string._0') "
                                    + "FROM journal WHERE step_id = '\(dnsStep)' AND kind = 'step.outputs'")
            #expect(!acted.isEmpty && outputs == "\(acted) INSYNC", "acted \(acted), outputs \(outputs)")
            #expect(dnsWait(bed, dnsStep) >= insync)
            // The resumed move ends as an uninterrupted one does: the summary, journaled.
            #expect(resumed.stdout.contains("Summary of \(id): succeeded"), "\(resumed.stdout)")
            #expect(resumed.stdout.contains("RTO measured:") && resumed.stdout.contains("of a 4h budget"), "\(resumed.stdout)")
            #expect(resumed.stdout.contains("RPO expected:") && resumed.stdout.contains("of a 1h budget"), "\(resumed.stdout)")
            #expect(resumed.stdout.contains(": confirmed"), "\(resumed.stdout)")
            #expect(bed.query("SELECT count(*) FROM journal WHERE run_id = '\(id)' AND kind = 'run.note' AND detail LIKE '%\"summary\"%'") == "1")
            #expect(bed.query("SELECT status FROM runs WHERE id = '\(id)'") == "succeeded")

            // The plan is now active in us-west-2: failing over there again has nothing to do.
            let again = try bed.drctl(bed.failoverArguments())
            #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
            #expect(again.stdout.contains("nothing to do: plan \(bed.prefix) is already active in us-west-2"), "\(again.stdout)")
            #expect(bed.query("SELECT count(*) FROM runs") == "1")
            #expect(try await bed.calls("route53", "ChangeResourceRecordSets") == 1)
            try await bed.control("POST", "/_testbed/config", ["route53": ["insync": 2]], base: bed.moto)
        }

        @Test func abandoningAnInterruptedMoveJournalsWhoAndLetsANewOneStart() async throws {
            let bed = try Bed.make()
            try bed.setUp()
            try bed.home.write("slow.yaml", "name: slow-move\nsteps:\n  - { id: settle, action: wait, with: { duration: 60s } }\n")
            try bed.home.write("quick.yaml", "name: quick-move\nsteps:\n  - { id: settle, action: wait, with: { duration: 1s } }\n")
            let slow = bed.home.url.appendingPathComponent("slow.yaml").path, quick = bed.home.url.appendingPathComponent("quick.yaml").path
            let first = try DrctlChild(bed.failoverArguments("--runbook", slow), home: bed.home.url, environment: bed.environment)
            poll(for: 60, "the wait has started") { bed.query("SELECT count(*) FROM journal WHERE step_id = 'settle'") == "1" }
            #expect(first.crash())
            let old = try bed.runId()

            let refused = try bed.drctl(bed.failoverArguments("--runbook", quick))
            #expect(refused.status == 7, "\(refused.stderr)")
            #expect(refused.stderr.contains("run \(old) (failover to us-west-2"), "\(refused.stderr)")
            let stranger = try bed.drctl(bed.failoverArguments("--runbook", quick, "--abandon", "run-nope"))
            #expect(stranger.status == 2, "\(stranger.stderr)")

            let started = try bed.drctl(bed.failoverArguments("--runbook", quick, "--abandon", old, "--operator", "oncall-bob"))
            #expect(started.status == 0, "\(started.stdout)\n\(started.stderr)")
            #expect(bed.query("SELECT status FROM runs WHERE id = '\(old)'") == "aborted")
            #expect(bed.query("SELECT count(*) FROM runs WHERE status = 'succeeded'") == "1")
            let journal = try bed.drctl(["show", old, "--state", bed.statePath, "--journal"])
            #expect(journal.stdout.contains("event=abandoned"), "\(journal.stdout)")
            #expect(journal.stdout.contains("by=oncall-bob"), "\(journal.stdout)")
            // An abandoned run is finished: nothing to resume.
            #expect(try bed.drctl(["resume", old, "--state", bed.statePath, "--yes"]).status == 2)
        }

        @Test func jsonOutputOfAMoveIsJSONLinesFromPreflightToASummaryNamingWhoAcceptedTheLoss() async throws {
            let bed = try Bed.make()
            try bed.setUp(lag: 7200)
            func objects(_ stdout: String) -> [[String: Any]] {
                let lines = stdout.split(separator: "\n").map(String.init)
                let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                #expect(objects.count == lines.count, "not one JSON object per line:\n\(stdout)")
                #expect(objects.allSatisfy { $0["event"] is String && $0["time"] is String }, "\(stdout)")
                return objects
            }
            let dry = try bed.drctl(bed.failoverArguments("--dry-run", "--output", "json"))
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(objects(dry.stdout).map { $0["event"] as? String } == ["preflight", "plan"])

            let result = try bed.drctl(bed.failoverArguments("--accept-data-loss", "3h", "--operator", "oncall-alice", "--output", "json"))
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            let lines = objects(result.stdout)
            #expect(lines.first?["event"] as? String == "preflight")
            #expect(lines.first?["expected_data_loss_seconds"] as? Double == 7200)
            #expect(lines.contains { $0["event"] as? String == "run.finished" })
            let summary = try #require(lines.last)
            #expect(summary["event"] as? String == "summary")
            #expect(summary["status"] as? String == "succeeded")
            #expect(summary["rto_seconds"] is Double && summary["to"] as? String == "us-west-2", "\(summary)")
            let acceptance = try #require(summary["data_loss_acceptance"] as? [String: Any])
            #expect(acceptance["by"] as? String == "oncall-alice")
            #expect(acceptance["accepted_seconds"] as? Double == 10800)
            #expect(acceptance["expected_seconds"] as? Double == 7200)
        }

        @Test func anUnknownTargetRegionIsAShortUsageError() throws {
            let bed = try Bed.make()
            try bed.setUp()
            let result = try bed.drctl(["failover", "--to", "eu-west-9", "--plan", bed.planPath, "--state", bed.statePath, "--yes"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("plan \(bed.prefix) has nothing in eu-west-9 (its regions: us-east-1, us-west-2)"), "\(result.stderr)")
            #expect(!result.stderr.lowercased().contains("usage:") && !result.stderr.contains("SUBCOMMANDS"), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count <= 2, "\(result.stderr)")
        }
    }
}

extension FailoverCommandTests.Bed {
    /// One value from this bed's state store (sqlite3, as an operator would look).
    func query(_ sql: String) -> String { sqliteQuery(statePath, sql) }
}
