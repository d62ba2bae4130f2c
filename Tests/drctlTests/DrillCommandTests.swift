import DRCore
import Foundation
import Testing

/// `drctl drill run` / `drill cleanup` against the AWS test bed (moto, directly: no proxy counters)
/// and the local PostgreSQL pair. In the test bed the restored RDS instance has no database
/// behind it, so the local PostgreSQL standby stands in for the restored copy
/// (`drills.validation.url_env` → DRCTL_TESTBED_PG_STANDBY_URL). Validation uses
/// `postgres.replication-lag` (the data checks of the `checks` branch are not in this build).
@Suite(.serialized)
struct DrillCommandTests {
    struct Bed {
        let moto: String
        let key: String
        let secret: String
        let primaryURL: String
        let standbyURL: String
        let home: TemporaryHome
        let prefix: String

        static func make() throws -> Bed {
            let env = ProcessInfo.processInfo.environment
            guard let moto = env["DRCTL_TESTBED_MOTO_URL"], let key = env["DRCTL_TESTBED_ACCESS_KEY_ID"],
                  let secret = env["DRCTL_TESTBED_SECRET_ACCESS_KEY"], let primary = env["DRCTL_TESTBED_PG_PRIMARY_URL"],
                  let standby = env["DRCTL_TESTBED_PG_STANDBY_URL"] else {
                Issue.record("the test bed is not running: run scripts/test.sh")
                throw CancellationError()
            }
            return Bed(moto: moto, key: key, secret: secret, primaryURL: primary, standbyURL: standby, home: try TemporaryHome(),
                       prefix: "dr\(UInt32.random(in: 0...UInt32.max) % 1_000_000)")
        }

        var environment: [String: String] {
            ["AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_ENDPOINT_URL": moto, "AWS_REGION": "us-east-1",
             "DRCTL_TESTBED_MOTO_URL": moto, "DRCTL_TESTBED_ACCESS_KEY_ID": key, "DRCTL_TESTBED_SECRET_ACCESS_KEY": secret,
             "DRILL_COPY_URL": standbyURL, "DRILL_PRIMARY_URL": primaryURL]
        }
        var planPath: String { home.url.appendingPathComponent("drplan.yaml").path }
        var statePath: String { home.url.appendingPathComponent("state.db").path }

        /// The reference topology under this test's prefix, and a plan with a drills section.
        func setUp(drills: String? = nil) throws {
            let result = try python(["Tests/TestBed/reference_topology.py", "--prefix", prefix])
            #expect(result.status == 0, "\(result.stderr)")
            try home.write("drplan.yaml", """
            name: \(prefix)
            regions: { primary: us-east-1, dr: us-west-2 }
            budgets: { rpo: 1h, rto: 4h }
            drills:
            \(drills ?? """
              instance_class: db.t3.medium
              max_instance_class: db.t3.large
              validation: { url_env: DRILL_COPY_URL }
              primary_url_env: DRILL_PRIMARY_URL
              checks:
                - { name: copy-is-current, action: postgres.replication-lag, with: { max_lag: 1h } }
            """)
            aws:
              databases:
                - name: orders
                  primary: { region: us-east-1, instance: \(prefix)-primary }
                  replicas: [ { region: us-west-2, instance: \(prefix)-replica } ]
              dns:
                - { zone_name: \(prefix).example.com., name: app.\(prefix).example.com., type: CNAME, ttl: 60,
                    values: { us-east-1: [app-use1.\(prefix).example.com.], us-west-2: [app-usw2.\(prefix).example.com.] } }
            """)
        }

        func drctl(_ arguments: [String], extra: [String: String] = [:]) throws -> DrctlProcess.Result {
            try DrctlProcess.run(arguments, environment: environment.merging(extra) { $1 }, home: home.url)
        }

        func python(_ arguments: [String]) throws -> DrctlProcess.Result {
            try DrctlProcess.python(arguments, environment: environment)
        }

        /// Straight from moto with boto3: every instance and manual snapshot, in both regions, with its tags.
        func resources() throws -> [[String: Any]] {
            let result = try python(["-c", """
            import boto3, json, os
            kw = dict(endpoint_url=os.environ['DRCTL_TESTBED_MOTO_URL'], aws_access_key_id=os.environ['DRCTL_TESTBED_ACCESS_KEY_ID'],
                      aws_secret_access_key=os.environ['DRCTL_TESTBED_SECRET_ACCESS_KEY'])
            out = []
            for region in ['us-east-1', 'us-west-2']:
                rds = boto3.client('rds', region_name=region, **kw)
                for db in rds.describe_db_instances()['DBInstances']:
                    tags = {t['Key']: t['Value'] for t in rds.list_tags_for_resource(ResourceName=db['DBInstanceArn'])['TagList']}
                    out.append({'kind': 'instance', 'region': region, 'id': db['DBInstanceIdentifier'], 'status': db['DBInstanceStatus'],
                                'class': db.get('DBInstanceClass'), 'source': db.get('ReadReplicaSourceDBInstanceIdentifier'), 'tags': tags})
                for snap in rds.describe_db_snapshots(SnapshotType='manual')['DBSnapshots']:
                    tags = {t['Key']: t['Value'] for t in rds.list_tags_for_resource(ResourceName=snap['DBSnapshotArn'])['TagList']}
                    out.append({'kind': 'snapshot', 'region': region, 'id': snap['DBSnapshotIdentifier'], 'status': snap['Status'], 'tags': tags})
            print(json.dumps(out))
            """])
            #expect(result.status == 0, "\(result.stderr)")
            return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
        }

        /// Resources tagged by a drill of this plan.
        func drillResources() throws -> [[String: Any]] {
            try resources().filter { ($0["tags"] as? [String: String])?["drctl:plan"] == prefix && ($0["tags"] as? [String: String])?["drctl:drill"] != nil }
        }

        func expectNoDrillLeftovers(sourceLocation: SourceLocation = #_sourceLocation) throws {
            let left = try drillResources().map { "\($0["kind"] ?? "?") \($0["id"] ?? "?")" }
            #expect(left.isEmpty, "left behind: \(left)", sourceLocation: sourceLocation)
        }

        func inspect() throws -> [String: Any] {
            let result = try python(["Tests/TestBed/inspect_topology.py", "--prefix", prefix])
            return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        }

        @discardableResult
        func control(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
            let transport = CurlTransport(configuration: .init(proxy: ProxySettings()))
            let bytes = try body.map { Array(try JSONSerialization.data(withJSONObject: $0)) } ?? []
            let response = try await transport.send(HTTPRequest(method: method, url: moto + path,
                                                                headers: body == nil ? [:] : ["Content-Type": "application/json"], body: bytes))
            return (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
        }

        func runId() throws -> String {
            let runs = try drctl(["runs", "--state", statePath, "--output", "json"])
            let list = try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]]
            return try #require(list?.first?["id"] as? String)
        }

        func journal(_ id: String) throws -> String {
            try drctl(["show", id, "--state", statePath, "--journal"]).stdout
        }

        /// The production side is as the topology left it: primary available, replica still its replica, DNS unchanged.
        func expectProductionUntouched() throws {
            let state = try inspect()
            let replica = state["replica"] as? [String: Any]
            #expect(replica?["status"] as? String == "available")
            #expect((replica?["source"] as? String)?.contains("\(prefix)-primary") == true, "the production replica was promoted: \(state)")
            #expect((state["primary"] as? [String: Any])?["status"] as? String == "available")
            #expect((state["records"] as? [String: [String]])?["app.\(prefix).example.com."] == ["app-use1.\(prefix).example.com."])
        }
    }

    @Test func drillRestoresValidatesMeasuresAndTearsDown() async throws {
        let bed = try Bed.make()
        try bed.setUp()
        let printed = try bed.drctl(["drill", "run", "--plan", bed.planPath, "--print-runbook"])
        #expect(printed.status == 0, "\(printed.stderr)")
        // Only drill actions: nothing that fences, promotes, modifies, scales or moves traffic.
        let actions = Set(printed.stdout.split(separator: "\n").compactMap { line -> String? in
            let text = line.trimmingCharacters(in: .whitespaces)
            return text.hasPrefix("action: ") ? String(text.dropFirst("action: ".count)) : nil
        })
        #expect(actions == ["notify", "aws.rds.create-snapshot", "aws.rds.restore-from-snapshot", "postgres.replication-lag",
                            "postgres.heartbeat-rpo", "aws.rds.delete-instance", "aws.rds.delete-snapshot"], "\(actions)")
        // Every mutating step names a drill resource; the production replica is only snapshotted.
        for line in printed.stdout.split(separator: "\n") where line.contains("instance: ") && !line.contains("create-snapshot") {
            if line.contains("aws.rds") || line.contains("with:") {
                #expect(!line.contains("instance: \"\(bed.prefix)-replica\"") || line.contains("snapshot: \"drill-"), "\(line)")
            }
        }

        let result = try bed.drctl(["drill", "run", "--plan", bed.planPath, "--state", bed.statePath])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("RTO (start → validated): "))
        #expect(result.stdout.contains("validation copy-is-current: passed"))
        #expect(result.stdout.contains("teardown orders"))
        #expect(result.stdout.contains("done (teardown steps)"))
        let id = try bed.runId()
        let journal = try bed.journal(id)
        #expect(journal.contains("event=validation"))
        #expect(journal.contains("passed=true"))
        #expect(journal.contains("event=rpo-measured"))
        // Measured from the heartbeat the drill wrote on the primary while it ran.
        #expect(result.stdout.contains("RPO measured: ") && !result.stdout.contains("not measured"), "\(result.stdout)")
        // The restore really happened, under the drill's name and tags, and was deleted again.
        #expect(journal.contains("restore-orders"))
        try bed.expectNoDrillLeftovers()
        try bed.expectProductionUntouched()

        let record = try await SQLiteStateStore(path: bed.statePath).run(id)
        #expect(record?.mode == "drill")
        #expect(record?.lockScope == "drill:\(bed.prefix)")
    }

    /// Issue 16, defect 6: a drill's evidence names its plan and judges against the plan's
    /// budgets in all three formats, and the plan's history counts it.
    @Test func aDrillsEvidenceNamesThePlanAndItsBudgetsAndCountsInThePlansHistory() async throws {
        let bed = try Bed.make()
        try bed.setUp()
        let result = try bed.drctl(["drill", "run", "--plan", bed.planPath, "--state", bed.statePath])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let id = try bed.runId()
        let json = try bed.drctl(["report", id, "--state", bed.statePath, "--format", "json"])
        let evidence = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stderr)")
        let run = try #require(evidence["run"] as? [String: Any]), rto = try #require(evidence["rto"] as? [String: Any])
        let rpo = try #require(evidence["rpo"] as? [String: Any])
        #expect(run["plan"] as? String == bed.prefix)
        let rtoBudget = (rto["budget_seconds"] as? NSNumber)?.doubleValue, rpoBudget = (rpo["budget_seconds"] as? NSNumber)?.doubleValue
        #expect(rtoBudget == 14_400.0)
        #expect(rto["verdict"] as? String == "within")
        #expect(rpoBudget == 3_600.0)
        let markdown = try bed.drctl(["report", id, "--state", bed.statePath, "--format", "markdown"]).stdout
        let html = try bed.drctl(["report", id, "--state", bed.statePath, "--format", "html"]).stdout
        for (format, text) in [("markdown", markdown), ("html", html)] {
            #expect(text.contains(bed.prefix), "\(format) does not name the plan")
            #expect(!text.contains("no budget"), "\(format) says no budget")
        }
        let history = try bed.drctl(["report", "--history", "--plan", bed.prefix, "--state", bed.statePath, "--format", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [String: Any], "\(history.stderr)")
        #expect(document["runs"] as? [String] == [id])
        #expect((document["quarters"] as? [[String: Any]])?.first?["drills"] as? Int == 1)
    }

    /// Issue 16, defect 3: on real AWS the copy's name carries the run id, so no variable can hold
    /// its URL before the run. `url_template` is filled with the restored instance's own address and
    /// port; the password comes from PGPASSWORD (or PGPASSFILE), never the runbook or the journal.
    /// In the test bed the restored instance has no server behind it: `hostaddr` routes the URL,
    /// host name and all, to the local standby.
    @Test func checksReachTheCopyThroughAURLTemplateFilledFromTheRestore() async throws {
        let bed = try Bed.make()
        let env = ProcessInfo.processInfo.environment
        let port = try #require(env["DRCTL_TESTBED_PG_STANDBY_PORT"]), password = try #require(env["DRCTL_TESTBED_PG_PASSWORD"])
        let user = env["DRCTL_TESTBED_PG_USER"] ?? "drctl", database = env["DRCTL_TESTBED_PG_DATABASE"] ?? "drctl"
        try bed.setUp(drills: """
          validation: { url_template: "postgres://\(user)@{host}:\(port)/\(database)?hostaddr=127.0.0.1&sslmode=disable&application_name=drill-{port}" }
          primary_url_env: DRILL_PRIMARY_URL
          checks:
            - { name: copy-is-current, action: postgres.replication-lag, with: { max_lag: 1h } }
        """)
        let printed = try bed.drctl(["drill", "run", "--plan", bed.planPath, "--print-runbook"])
        #expect(printed.status == 0, "\(printed.stderr)")
        #expect(printed.stdout.contains("${{ steps.restore-orders.outputs.address }}") && printed.stdout.contains("${{ steps.restore-orders.outputs.port }}"), "\(printed.stdout)")

        let result = try bed.drctl(["drill", "run", "--plan", bed.planPath, "--state", bed.statePath], extra: ["PGPASSWORD": password])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("validation copy-is-current-orders: passed"), "\(result.stdout)")
        #expect(result.stdout.contains("RPO measured: ") && !result.stdout.contains("not measured"), "\(result.stdout)")
        let journal = try bed.journal(try bed.runId())
        // The check connected to the copy by its own name (the restored instance's address).
        #expect(journal.contains("drill-\(bed.prefix)-orders-"), "\(journal)")
        #expect(!journal.contains(password) && !result.stdout.contains(password) && !result.stderr.contains(password))
        try bed.expectNoDrillLeftovers()

        // Without the password the copy refuses the check: the drill fails and still tears down.
        let refused = try bed.drctl(["drill", "run", "--plan", bed.planPath, "--state", bed.statePath], extra: ["PGPASSFILE": "/nonexistent"])
        #expect(refused.status != 0, "\(refused.stdout)")
        try bed.expectNoDrillLeftovers()
    }

    @Test func aFailedValidationStillTearsDown() async throws {
        let bed = try Bed.make()
        // The "copy" is the primary: not a standby, so the check fails.
        try bed.setUp(drills: """
          validation: { url_env: DRILL_PRIMARY_URL }
          primary_url_env: DRILL_PRIMARY_URL
          checks:
            - { name: copy-is-current, action: postgres.replication-lag }
        """)
        let result = try bed.drctl(["drill", "run", "--plan", bed.planPath, "--state", bed.statePath])
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("validation copy-is-current: FAILED"))
        #expect(result.stdout.contains("done (compensation)"))
        #expect(result.stdout.contains("RTO (start → validated): not reached"))
        let journal = try bed.journal(try bed.runId())
        #expect(journal.contains("passed=false"))
        try bed.expectNoDrillLeftovers()
        try bed.expectProductionUntouched()
    }

    @Test func aDrillKilledWhileTheRestoreWaitsIsFinishedByResume() async throws {
        let bed = try Bed.make()
        try bed.setUp()
        try await bed.control("POST", "/_testbed/config", ["rds": ["creating": 5]])
        let child = try DrctlChild(["drill", "run", "--plan", bed.planPath, "--state", bed.statePath, "--lease-ttl", "2"],
                                   home: bed.home.url, environment: bed.environment)
        // Wait until the drill instance exists (the restore is waiting for it to be available).
        var restoring = false
        for _ in 0..<300 where !restoring {
            try await Task.sleep(for: .seconds(0.1))
            restoring = try bed.drillResources().contains { $0["kind"] as? String == "instance" }
        }
        #expect(restoring)
        #expect(child.crash())
        #expect(try bed.drillResources().contains { $0["kind"] as? String == "instance" })   // left behind by the crash
        let id = try bed.runId()
        try await Task.sleep(for: .seconds(2.5))   // the dead process's lease expires
        let resumed = try bed.drctl(["resume", id, "--state", bed.statePath])
        try await bed.control("POST", "/_testbed/config", ["rds": ["creating": 2]])
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(resumed.stdout.contains("done (teardown steps)"))
        try bed.expectNoDrillLeftovers()
        #expect(try bed.journal(id).contains("event=drill-summary"))
        try bed.expectProductionUntouched()
    }

    @Test func cleanupDeletesTaggedLeftoversOnly() async throws {
        let bed = try Bed.make()
        try bed.setUp()
        let made = try bed.python(["-c", """
        import boto3, os
        kw = dict(endpoint_url=os.environ['DRCTL_TESTBED_MOTO_URL'], aws_access_key_id=os.environ['DRCTL_TESTBED_ACCESS_KEY_ID'],
                  aws_secret_access_key=os.environ['DRCTL_TESTBED_SECRET_ACCESS_KEY'])
        rds = boto3.client('rds', region_name='us-west-2', **kw)
        tags = [{'Key': 'drctl:drill', 'Value': 'run-20250101-000000-abcdef'}, {'Key': 'drctl:plan', 'Value': '\(bed.prefix)'}]
        rds.create_db_snapshot(DBInstanceIdentifier='\(bed.prefix)-replica', DBSnapshotIdentifier='drill-\(bed.prefix)-left', Tags=tags)
        import time
        def settle():
            for _ in range(100):
                if rds.describe_db_instances(DBInstanceIdentifier='\(bed.prefix)-replica')['DBInstances'][0]['DBInstanceStatus'] == 'available' and \\
                   all(s['Status'] == 'available' for s in rds.describe_db_snapshots(SnapshotType='manual')['DBSnapshots']): return
                time.sleep(0.2)
        settle()
        rds.create_db_snapshot(DBInstanceIdentifier='\(bed.prefix)-replica', DBSnapshotIdentifier='\(bed.prefix)-keep')
        settle()
        rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier='drill-\(bed.prefix)-left', DBSnapshotIdentifier='drill-\(bed.prefix)-left',
                                                 DBInstanceClass='db.t3.medium', Tags=tags)
        """])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(try bed.drillResources().count == 2)

        let refused = try bed.drctl(["drill", "cleanup", "--plan", bed.planPath, "--only-this-plan"])
        #expect(refused.status == 2, "\(refused.stdout)\n\(refused.stderr)")   // no terminal, no --yes
        #expect(refused.stdout.contains("instance drill-\(bed.prefix)-left in us-west-2"))
        #expect(refused.stdout.contains("snapshot drill-\(bed.prefix)-left in us-west-2"))
        #expect(try bed.drillResources().count == 2)

        let result = try bed.drctl(["drill", "cleanup", "--plan", bed.planPath, "--only-this-plan", "--yes"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        try bed.expectNoDrillLeftovers()
        let all = try bed.resources()
        #expect(all.contains { $0["id"] as? String == "\(bed.prefix)-keep" })   // untagged: not a drill's
        try bed.expectProductionUntouched()
    }

    @Test func theCostGuardRefusesAnOversizedClassAndAnOverlongDrill() async throws {
        let bed = try Bed.make()
        try bed.setUp(drills: """
          instance_class: db.r6g.2xlarge
          max_instance_class: db.r6g.large
        """)
        let before = try bed.resources().count
        let oversized = try bed.drctl(["drill", "run", "--plan", bed.planPath, "--state", bed.statePath])
        #expect(oversized.status == 4, "\(oversized.stdout)\n\(oversized.stderr)")
        #expect(oversized.stderr.contains("larger than max_instance_class db.r6g.large"))

        try bed.home.write("drplan.yaml", try String(contentsOfFile: bed.planPath, encoding: .utf8)
            .replacingOccurrences(of: "instance_class: db.r6g.2xlarge", with: "instance_class: db.r6g.large\n  max_runtime: 20m"))
        let overlong = try bed.drctl(["drill", "run", "--plan", bed.planPath, "--state", bed.statePath])
        #expect(overlong.status == 4, "\(overlong.stdout)\n\(overlong.stderr)")
        #expect(overlong.stderr.contains("over drills.max_runtime 20m"))
        #expect(try bed.resources().count == before)   // nothing created
    }
}
