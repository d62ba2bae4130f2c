import Foundation
import Testing

/// The GCP reference plan end to end through the real CLI, against moto (the AWS primary RDS) and
/// the GCP stand-in: failover to gcp:us-central1, a crash while the promotion's Operation runs and
/// `resume`, throttling and 503 on every Google call, a GCP drill, the posture, and bad input.
/// Asserts on what the stand-ins hold (`gcp_topology.py inspect`, `/_gcp/calls`, `/_gcp/violations`:
/// every request checked against Google's discovery documents), not on drctl's word.
@Suite(.serialized)
struct GCPFailoverCLITests {
    @Test func aFailoverToGCPFencesTheRDSPrimaryPromotesTheReplicaMovesTheRecordAndScalesThePool() throws {
        let bed = try GCPFailoverBed()
        let result = try bed.failover()
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains(": succeeded") && result.stdout.contains("RTO measured"), "\(result.stdout)")
        #expect(result.stdout.contains("fence-orders: confirmed"), "\(result.stdout)")
        let state = try bed.inspect()
        #expect(state.rds_security_groups == ["sg-0d15a7e1501a7ed00"], "the RDS primary is fenced as the aws: section says")
        #expect(state.replica_type == "CLOUD_SQL_INSTANCE" && state.replica_state == "RUNNABLE", "\(state)")
        #expect(state.record == ["app-usc1.\(bed.prefix).example.com."], "\(state)")
        #expect(state.pool_nodes == 3, "\(state)")
        #expect(try bed.calls("sql.instances.promoteReplica") == 1)
        let violations = try bed.violations()
        #expect(violations.isEmpty, "\(violations)")
        bed.expectNoSecret(result.stdout, result.stderr)
    }

    @Test func killedWhileThePromotionRunsThenResumedPromotesOnce() throws {
        let bed = try GCPFailoverBed()
        try bed.admin("POST", "config", ["durations": ["sql.promoteReplica": 2]])
        defer { _ = try? bed.admin("POST", "config", ["durations": ["sql.promoteReplica": 3]]) }
        let child = try bed.start(["failover", "--plan", bed.planPath, "--to", "gcp:us-central1", "--state", bed.statePath, "--yes"])
        poll(for: 60, "promoteReplica was called") { ((try? bed.calls("sql.instances.promoteReplica")) ?? 0) >= 1 }
        #expect(child.crash(), "drctl ended before the promotion's Operation was done")
        #expect(try bed.inspect().replica_type == "READ_REPLICA_INSTANCE", "the promotion was still running at the kill")
        let runId = sqliteQuery(bed.statePath, "SELECT id FROM runs LIMIT 1")
        let resumed = try bed.drctl(["resume", runId, "--state", bed.statePath, "--yes"])
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(resumed.stdout.contains("Summary of \(runId): succeeded"), "\(resumed.stdout)")
        let state = try bed.inspect()
        #expect(state.replica_type == "CLOUD_SQL_INSTANCE" && state.record == ["app-usc1.\(bed.prefix).example.com."] && state.pool_nodes == 3, "\(state)")
        #expect(try bed.calls("sql.instances.promoteReplica") == 1, "resume observed the running Operation instead of promoting again")
        let violations = try bed.violations()
        #expect(violations.isEmpty, "\(violations)")
    }

    /// The plan's `gcp.quota_project` and `gcp.impersonate_service_account` reach every Google call
    /// of the run — also after `resume`, which rebuilds the steps from the journal, not the plan.
    @Test func thePlansQuotaProjectAndImpersonationApplyToEveryCallAlsoAfterResume() throws {
        let bed = try GCPFailoverBed()
        let made = try bed.admin("POST", "service-accounts", ["name": "runner-\(bed.prefix)", "roles": ["roles/editor"]]) as? [String: Any]
        let runner = try #require(made?["client_email"] as? String)
        let key = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bed.keyFile))) as? [String: Any]
        try bed.admin("POST", "impersonation", ["caller": try #require(key?["client_email"] as? String), "target": runner])
        let billing = "\(bed.prefix)-billing"
        try bed.admin("POST", "projects", ["project": billing])
        let plan = try bed.plan()
        #expect(plan.contains("gcp:\n  project: \(bed.project)\n"))
        try bed.home.write("drplan.yaml", plan.replacingOccurrences(of: "gcp:\n  project: \(bed.project)\n", with: """
            gcp:
              project: \(bed.project)
              quota_project: \(billing)
              impersonate_service_account: \(runner)

            """))
        try bed.admin("POST", "config", ["durations": ["sql.promoteReplica": 2]])
        defer { _ = try? bed.admin("POST", "config", ["durations": ["sql.promoteReplica": 3]]) }
        struct Caller: Decodable { let method: String; let principal: String; let quota_project: String?; let calls: Int }
        func callers() throws -> [Caller] {
            let data = try JSONSerialization.data(withJSONObject: try bed.admin("GET", "callers") ?? [])
            return try JSONDecoder().decode([Caller].self, from: data).filter { !$0.method.hasPrefix("iamcredentials.") }
        }
        let child = try bed.start(["failover", "--plan", bed.planPath, "--to", "gcp:us-central1", "--state", bed.statePath, "--yes"])
        poll(for: 60, "promoteReplica was called") { ((try? bed.calls("sql.instances.promoteReplica")) ?? 0) >= 1 }
        #expect(child.crash(), "drctl ended before the promotion's Operation was done")
        let before = try callers()
        #expect(before.contains { $0.method == "sql.instances.promoteReplica" }, "\(before)")
        #expect(before.allSatisfy { $0.principal == runner && $0.quota_project == billing }, "\(before)")
        try bed.admin("DELETE", "calls")
        let runId = sqliteQuery(bed.statePath, "SELECT id FROM runs LIMIT 1")
        let resumed = try bed.drctl(["resume", runId, "--state", bed.statePath, "--yes"])
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        let after = try callers()
        #expect(after.contains { $0.method == "dns.changes.create" }, "the resumed run made the DNS change: \(after)")
        #expect(after.allSatisfy { $0.principal == runner && $0.quota_project == billing }, "\(after)")
        #expect(try bed.calls("sql.instances.promoteReplica") == 0, "resume waited for the running promotion")
        let violations = try bed.violations()
        #expect(violations.isEmpty, "\(violations)")
        bed.expectNoSecret(resumed.stdout, resumed.stderr)
    }

    /// Every Google method the failover calls is refused once with 429 and once with 503 first.
    @Test func throttlingAndUnavailabilityOnEveryGoogleCallStillSucceed() throws {
        let bed = try GCPFailoverBed()
        let methods = ["sql.instances.get", "sql.instances.promoteReplica", "sql.operations.get", "sql.operations.list",
                       "monitoring.projects.timeSeries.list", "storagetransfer.transferOperations.list",
                       "dns.resourceRecordSets.list", "dns.changes.create", "dns.changes.get",
                       "container.projects.locations.clusters.nodePools.setAutoscaling", "container.projects.locations.clusters.nodePools.setSize",
                       "container.projects.locations.clusters.nodePools.get", "container.projects.locations.clusters.get",
                       "container.projects.locations.operations.get"]
        try bed.admin("POST", "faults", ["seed": 1, "rules": methods.flatMap { method in
            [["method": method, "fault": "throttle", "times": 1], ["method": method, "fault": "error5xx", "status": 503, "times": 1]]
        }])
        defer { _ = try? bed.admin("DELETE", "faults") }
        let result = try bed.failover()
        let rules = (try bed.admin("GET", "faults") as? [String: Any])?["rules"] as? [[String: Any]] ?? []
        try bed.admin("DELETE", "faults")
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let unfired = rules.filter { $0["fired"] as? Int != $0["times"] as? Int }.compactMap { $0["method"] as? String }
        #expect(unfired.isEmpty, "every fault fired: \(unfired)")
        let state = try bed.inspect()
        #expect(state.replica_type == "CLOUD_SQL_INSTANCE" && state.record == ["app-usc1.\(bed.prefix).example.com."] && state.pool_nodes == 3, "\(state)")
        let operations = try bed.admin("GET", "sqladmin/operations") as? [[String: Any]] ?? []
        let promotions = operations.filter { $0["targetId"] as? String == "\(bed.prefix)-replica-usc1" && $0["operationType"] as? String == "PROMOTE_REPLICA" }
        #expect(promotions.count == 1, "exactly one promotion accepted, whatever was refused before it")
        let violations = try bed.violations()
        #expect(violations.isEmpty, "\(violations)")
    }

    /// Clone → checks → delete. The checks reach the clone through `url_template` filled with the
    /// clone's IP; `hostaddr` routes it to the test bed's standby (the clone has no server).
    @Test(arguments: [true, false])
    func aGCPDrillClonesChecksAndAlwaysDeletesTheClone(checkPasses: Bool) throws {
        let env = ProcessInfo.processInfo.environment
        let standby = try #require(env["DRCTL_TESTBED_PG_STANDBY_PORT"]), primary = try #require(env["DRCTL_TESTBED_PG_PRIMARY_PORT"])
        let password = try #require(env["DRCTL_TESTBED_PG_PASSWORD"]), primaryURL = try #require(env["DRCTL_TESTBED_PG_PRIMARY_URL"])
        let user = env["DRCTL_TESTBED_PG_USER"] ?? "drctl", database = env["DRCTL_TESTBED_PG_DATABASE"] ?? "drctl"
        let bed = try GCPFailoverBed()
        // A failing check: the "clone" routed to the primary, which is no standby.
        let port = checkPasses ? standby : primary
        try bed.home.write("drplan.yaml", try bed.plan(drills: """
          validation: { url_template: "postgres://\(user)@{host}:\(port)/\(database)?hostaddr=127.0.0.1&sslmode=disable&application_name=drill-{port}" }
          primary_url_env: DRILL_PRIMARY_URL
          checks:
            - { name: copy-is-current, action: postgres.replication-lag, with: { max_lag: 1h } }
        """))
        let result = try bed.drctl(["drill", "run", "--plan", bed.planPath, "--region", "gcp:us-central1", "--state", bed.statePath],
                                   ["PGPASSWORD": password, "DRILL_PRIMARY_URL": primaryURL])
        let output = result.stdout + result.stderr
        if checkPasses {
            #expect(result.status == 0, "\(output)")
            #expect(result.stdout.contains("validation copy-is-current-orders: passed"), "\(result.stdout)")
            #expect(result.stdout.contains("RTO (start → validated): ") && !result.stdout.contains("not reached"), "\(result.stdout)")
            #expect(result.stdout.contains("): done (teardown steps)"), "\(result.stdout)")
        } else {
            #expect(result.status == 1, "\(output)")
            #expect(result.stdout.contains("validation copy-is-current-orders: FAILED"), "\(result.stdout)")
            #expect(result.stdout.contains("): done (compensation)") || result.stdout.contains("): done (teardown steps)"), "\(result.stdout)")
        }
        #expect(!output.contains(password))
        let operations = try bed.admin("GET", "sqladmin/operations") as? [[String: Any]] ?? []
        let clones = operations.filter { $0["targetId"] as? String == "\(bed.prefix)-replica-usc1" && $0["operationType"] as? String == "CLONE" }
        let deletions = operations.filter { ($0["targetId"] as? String ?? "").hasPrefix("drctl-drill-\(bed.prefix)-") && $0["operationType"] as? String == "DELETE" }
        #expect(clones.count == 1 && deletions.count == 1, "one clone, one deletion: \(operations.filter { ($0["targetId"] as? String ?? "").contains(bed.prefix) })")
        #expect(try bed.inspect().clones.isEmpty, "the clone was deleted")
        #expect(try bed.inspect().replica_type == "READ_REPLICA_INSTANCE", "the drill left the DR replica alone")
        let violations = try bed.violations()
        #expect(violations.isEmpty, "\(violations)")
    }

    @Test func statusReportsReplicaLagBackupAndTransferAgesAndPrometheus() throws {
        let bed = try GCPFailoverBed(backupAge: 1800, transferAge: 900)
        let json = try bed.drctl(["status", "--plan", bed.planPath, "--state", bed.statePath, "--output", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)\(json.stderr)")
        let resources = document["resources"] as? [[String: Any]] ?? []
        func points(_ name: String) -> [String: [String: Any]] {
            let resource = resources.first { $0["name"] as? String == name }
            return Dictionary((resource?["recoveryPoints"] as? [[String: Any]] ?? []).map { ($0["kind"] as? String ?? "", $0) }) { a, _ in a }
        }
        let database = points("orders (gcp:us-central1)")
        #expect(database["replica-lag"]?["seconds"] as? Double == 4, "\(resources)")
        let backup = database["backup"]?["seconds"] as? Double ?? -1
        #expect(backup >= 1800 && backup < 1900, "the newest SUCCESSFUL run, not the failed one: \(resources)")
        let transfer = points("transferJobs/\(bed.prefix)-docs (gcp:us-central1)")["transfer"]?["seconds"] as? Double ?? -1
        #expect(transfer >= 900 && transfer < 1000, "the newest successful transfer, not the failed one after it: \(resources)")

        let metrics = try bed.drctl(["status", "--plan", bed.planPath, "--state", bed.statePath, "--output", "prometheus"])
        #expect(metrics.stdout.contains(#"drctl_rpo_seconds{kind="backup",plan="\#(bed.prefix)",resource="orders (gcp:us-central1)"}"#), "\(metrics.stdout)")
        let checked = try DrctlProcess.python(["-c", "import subprocess,sys; sys.exit(subprocess.run(['python3','Tests/TestBed/prometheus_check.py'], input=sys.argv[1].encode()).returncode)",
                                               metrics.stdout], environment: [:])
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")

        // No lag sample, no backup run: unknown, never 0.
        try bed.admin("POST", "monitoring/series", ["database_id": "\(bed.project):\(bed.prefix)-replica-usc1", "points": []])
        let unknown = try bed.drctl(["status", "--plan", bed.planPath, "--state", bed.statePath, "--output", "json"])
        let again = (try JSONSerialization.jsonObject(with: Data(unknown.stdout.utf8)) as? [String: Any])?["resources"] as? [[String: Any]] ?? []
        let lag = again.first { $0["name"] as? String == "orders (gcp:us-central1)" }?["recoveryPoints"] as? [[String: Any]] ?? []
        #expect(lag.contains { $0["kind"] as? String == "replica-lag" && $0["seconds"] == nil }, "\(again)")
    }

    /// Bad input stops the move before anything changes, with its own exit code, naming what and
    /// where, never the key or a token.
    @Test(arguments: ["malformed key file", "wrong key", "missing project", "unknown instance", "permission denied"])
    func badInputEndsTheFailoverBeforeAnythingChanges(_ case: String) throws {
        let bed = try GCPFailoverBed()
        var environment: [String: String] = [:]
        var plan = try bed.plan()
        let expected: (status: Int32, text: String)
        switch `case` {
        case "malformed key file":
            try bed.home.write("bad.json", #"{"type": "service_account", "client_email": "a@b", "private_key": "-----BEGIN"#)
            environment["GOOGLE_APPLICATION_CREDENTIALS"] = bed.home.url.appendingPathComponent("bad.json").path
            expected = (10, "\(bed.home.url.appendingPathComponent("bad.json").path): not valid JSON")
        case "wrong key":
            var key = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bed.keyFile))) as? [String: Any])
            key["private_key"] = try Self.otherPrivateKey()
            let path = bed.home.url.appendingPathComponent("wrong.json").path
            try JSONSerialization.data(withJSONObject: key).write(to: URL(fileURLWithPath: path))
            environment["GOOGLE_APPLICATION_CREDENTIALS"] = path
            expected = (8, "invalid_grant")
        case "missing project":
            plan = plan.replacingOccurrences(of: "project: \(bed.project)", with: "project: nosuch-\(bed.prefix)")
            expected = (8, "replica \(bed.prefix)-replica-usc1 in project nosuch-\(bed.prefix): sqladmin.instances.get: HTTP 403")
        case "unknown instance":
            plan = plan.replacingOccurrences(of: "instance: \(bed.prefix)-replica-usc1", with: "instance: \(bed.prefix)-nosuch")
            expected = (9, "gcp database orders: replica \(bed.prefix)-nosuch in project \(bed.project): no such Cloud SQL instance")
        default:
            let path = bed.home.url.appendingPathComponent("norole.json").path
            try bed.admin("POST", "service-accounts", ["name": "norole-\(bed.prefix)", "roles": [], "write_to": path])
            environment["GOOGLE_APPLICATION_CREDENTIALS"] = path
            expected = (8, "PERMISSION_DENIED")
        }
        let planPath = try bed.home.url.appendingPathComponent("case.yaml").path
        try bed.home.write("case.yaml", plan)
        let result = try bed.failover(environment, plan: planPath)
        #expect(result.status == expected.status, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains(expected.text), "\(result.stderr)")
        bed.expectNoSecret(result.stdout, result.stderr)
        let state = try bed.inspect()
        #expect(state.rds_security_groups != ["sg-0d15a7e1501a7ed00"] && state.replica_type == "READ_REPLICA_INSTANCE", "nothing changed: \(state)")
        #expect(try bed.calls("sql.instances.promoteReplica") == 0)
    }

    static func otherPrivateKey() throws -> String {
        let generate = Process()
        generate.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        generate.arguments = ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        let output = Pipe()
        generate.standardOutput = output
        try generate.run()
        let pem = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        generate.waitUntilExit()
        return pem
    }
}
