import Foundation
import Testing

/// `drctl iam policy` against what drctl really calls: the drill, its cleanup, status, failover
/// and switchover run through the CLI's fault proxy, which records every call (region,
/// parameters); `Tests/TestBed/iam_evaluate.py` evaluates the generated policy against them (moto
/// does not evaluate IAM). Every call must be allowed, every statement must cover a call, and
/// calls outside the plan must be denied.
@Suite(.serialized)
struct IAMPolicyCommandTests {
    struct Bed {
        let moto: String
        let proxy: String
        let key: String
        let secret: String
        let account: String
        let primaryURL: String
        let standbyURL: String
        let home: TemporaryHome
        let prefix: String

        static func make() throws -> Bed {
            let env = ProcessInfo.processInfo.environment
            guard let moto = env["DRCTL_TESTBED_MOTO_URL"], let proxy = env["DRCTL_TESTBED_CLI_PROXY_URL"],
                  let key = env["DRCTL_TESTBED_ACCESS_KEY_ID"], let secret = env["DRCTL_TESTBED_SECRET_ACCESS_KEY"],
                  let account = env["DRCTL_TESTBED_ACCOUNT_ID"], let primary = env["DRCTL_TESTBED_PG_PRIMARY_URL"],
                  let standby = env["DRCTL_TESTBED_PG_STANDBY_URL"] else {
                Issue.record("the test bed is not running: run scripts/test.sh")
                throw CancellationError()
            }
            return Bed(moto: moto, proxy: proxy, key: key, secret: secret, account: account, primaryURL: primary, standbyURL: standby,
                       home: try TemporaryHome(), prefix: "iam\(UInt32.random(in: 0...UInt32.max) % 1_000_000)")
        }

        var environment: [String: String] {
            ["AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_ENDPOINT_URL": proxy, "AWS_REGION": "us-east-1",
             "DRCTL_TESTBED_MOTO_URL": moto, "DRCTL_TESTBED_ACCESS_KEY_ID": key, "DRCTL_TESTBED_SECRET_ACCESS_KEY": secret,
             "DRILL_COPY_URL": standbyURL, "DRILL_PRIMARY_URL": primaryURL]
        }
        var planPath: String { home.url.appendingPathComponent("drplan.yaml").path }
        var statePath: String { home.url.appendingPathComponent("state.db").path }

        /// The reference topology under this test's prefix (an RDS replica, a bucket pair, a
        /// secret, a zone, a warm-standby node group) and a plan with a drills section.
        func setUp() throws {
            let seeded = try python(["Tests/TestBed/reference_topology.py", "--prefix", prefix, "--lag", "12"])
            #expect(seeded.status == 0, "\(seeded.stderr)")
            try home.write("drplan.yaml", """
            name: \(prefix)
            regions: { primary: us-east-1, dr: us-west-2 }
            budgets: { rpo: 1h, rto: 4h }
            drills:
              instance_class: db.t3.medium
              max_instance_class: db.t3.large
              validation: { url_env: DRILL_COPY_URL }
              primary_url_env: DRILL_PRIMARY_URL
              checks:
                - { name: copy-is-current, action: postgres.replication-lag, with: { max_lag: 1h } }
            aws:
              databases:
                - name: db1
                  primary: { region: us-east-1, instance: \(prefix)-primary }
                  replicas: [ { region: us-west-2, instance: \(prefix)-replica } ]
                  fence: security-group
                  fence_security_groups: [ sg-0isolate ]
                  backup_retention_days: 30
              buckets:
                - { source: \(prefix)-docs, source_region: us-east-1, destination: \(prefix)-docs-dr, destination_region: us-west-2 }
              secrets:
                - { name: \(prefix)/db-credentials, region: us-east-1, promote_on_failover: true }
              dns:
                - { zone_name: \(prefix).example.com., name: app.\(prefix).example.com., type: CNAME, ttl: 60,
                    values: { us-east-1: [app-use1.\(prefix).example.com.], us-west-2: [app-usw2.\(prefix).example.com.] } }
              standby:
                us-west-2:
                  eks_nodegroups: [ { cluster: \(prefix)-dr, nodegroup: workers, min: 2, max: 20, desired: 6 } ]
            """)
        }

        func drctl(_ arguments: [String]) throws -> DrctlProcess.Result {
            try DrctlProcess.run(arguments, environment: environment, home: home.url)
        }

        func python(_ arguments: [String]) throws -> DrctlProcess.Result {
            try DrctlProcess.python(arguments, environment: environment)
        }

        /// Runs drctl commands (each must succeed) and returns the AWS calls they made, as the proxy recorded them.
        func recordCalls(_ commands: [[String]]) throws -> String {
            #expect(try proxyControl("DELETE", "/_faults/calls").status == 0)
            for command in commands {
                let result = try drctl(command + ["--plan", planPath, "--state", statePath])
                #expect(result.status == 0, "\(command.joined(separator: " ")): \(result.stdout)\(result.stderr)")
            }
            let calls = try proxyControl("GET", "/_faults/calls")
            #expect(calls.status == 0, "\(calls.stderr)")
            return calls.stdout
        }

        func proxyControl(_ method: String, _ path: String) throws -> DrctlProcess.Result {
            try python(["-c", "import sys, urllib.request; r = urllib.request.Request(sys.argv[1], method=sys.argv[2]); "
                        + "sys.stdout.write(urllib.request.urlopen(r).read().decode())", proxy + path, method])
        }

        func policy(_ purposes: [String]) throws -> String {
            let result = try drctl(["iam", "policy", "--plan", planPath, "--account-id", account] + purposes.flatMap { ["--for", $0] })
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("account \(account): from --account-id"))
            return result.stdout
        }

        /// The evaluator's verdict on `calls` (JSON list) under `policy` (JSON document).
        func evaluate(policy: String, calls: String) throws -> Evaluation {
            let name = UUID().uuidString
            try home.write("\(name)-policy.json", policy)
            try home.write("\(name)-calls.json", calls)
            let result = try python(["Tests/TestBed/iam_evaluate.py", "--policy", home.url.appendingPathComponent("\(name)-policy.json").path,
                                     "--calls", home.url.appendingPathComponent("\(name)-calls.json").path, "--account", account])
            #expect(result.status == 0, "\(result.stderr)")
            return try Evaluation(json: result.stdout)
        }
    }

    struct Evaluation {
        /// "Operation: denied requests" of each call that is not allowed.
        let denied: [String]
        let unmapped: [String]
        let calls: Int
        /// Sid → how many recorded calls are denied once that statement is removed.
        let removal: [String: Int]

        init(json: String) throws {
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
            let decisions = object["decisions"] as? [[String: Any]] ?? []
            calls = decisions.count
            denied = decisions.filter { $0["allowed"] as? Bool != true }.map { "\($0["operation"] ?? "?"): \($0["denied"] ?? "?")" }
            unmapped = (object["unmapped"] as? [[String: Any]] ?? []).map { "\($0["service"] ?? "?"):\($0["operation"] ?? "?")" }
            removal = (object["removal"] as? [String: [Int]] ?? [:]).mapValues(\.count)
        }
    }

    /// Statements no test bed call can exercise, and why (each is still computed from an action's declaration).
    static let notExercised: [String: String] = [
        "KmsDescribeKey": "the preflight reads the key of an encrypted replica; the test bed's replicas are not encrypted",
    ]

    @Test func generatedPolicyAllowsEveryCallOfDrillStatusAndFailoverAndNoStatementIsDeadWeight() throws {
        let bed = try Bed.make()
        try bed.setUp()
        let calls = try bed.recordCalls([["drill", "run"], ["drill", "cleanup", "--yes"], ["status"], ["failover", "--to", "us-west-2", "--yes"]])
        let policy = try bed.policy(["drill", "status", "failover"])
        let verdict = try bed.evaluate(policy: policy, calls: calls)
        #expect(verdict.calls > 40, "the commands made \(verdict.calls) AWS calls")
        #expect(verdict.unmapped.isEmpty, "calls the evaluator cannot map: \(verdict.unmapped)")
        #expect(verdict.denied.isEmpty, "denied by the generated policy: \(verdict.denied)")
        for (sid, denied) in verdict.removal.sorted(by: { $0.key < $1.key }) where Self.notExercised[sid] == nil {
            #expect(denied > 0, "statement \(sid) covers no call drill, cleanup, status or failover made")
        }

        // Defect 1 (issue 16): the hand-written policy of deploy/terraform/iam.tf denied the drill.
        let fixture = try String(contentsOfFile: "Tests/TestBed/handwritten_drill_policy.json", encoding: .utf8)
            .replacingOccurrences(of: "PREFIX", with: bed.prefix).replacingOccurrences(of: "ACCOUNT", with: bed.account)
        let old = try bed.evaluate(policy: fixture, calls: calls)
        for operation in ["CreateDBSnapshot", "RestoreDBInstanceFromDBSnapshot", "DeleteDBInstance", "DeleteDBSnapshot"] {
            #expect(old.denied.contains { $0.hasPrefix(operation + ":") }, "the hand-written policy allowed the drill's \(operation)")
        }
    }

    @Test func generatedPolicyDeniesCallsOutsideThePlan() throws {
        let bed = try Bed.make()
        try bed.setUp()
        let policy = try bed.policy(["all"])
        let drillName = "drill-\(bed.prefix)-db1-0a1b2c"
        let tags = ["Tags.Tag.1.Key": "drctl:drill", "Tags.Tag.1.Value": "run-20261205-120000-0a1b2c", "Tags.Tag.2.Key": "drctl:plan",
                    "Tags.Tag.2.Value": bed.prefix, "Tags.Tag.3.Key": "drctl:database", "Tags.Tag.3.Value": "db1"]
        func call(_ operation: String, _ region: String, _ params: [String: String]) -> [String: Any] {
            ["service": "rds", "operation": operation, "region": region, "params": params, "outcome": "200"]
        }
        let inside = [call("CreateDBSnapshot", "us-west-2", ["DBInstanceIdentifier": "\(bed.prefix)-replica", "DBSnapshotIdentifier": drillName]
                                                             .merging(tags) { $1 })]
        let outside: [(String, [String: Any])] = [
            ("a snapshot of another database", call("CreateDBSnapshot", "us-west-2", ["DBInstanceIdentifier": "payroll-replica",
                                                                                      "DBSnapshotIdentifier": drillName].merging(tags) { $1 })),
            ("a drill snapshot without the drill's tags", call("CreateDBSnapshot", "us-west-2", ["DBInstanceIdentifier": "\(bed.prefix)-replica",
                                                                                                 "DBSnapshotIdentifier": drillName])),
            ("a drill copy in another region", call("RestoreDBInstanceFromDBSnapshot", "eu-west-1", ["DBInstanceIdentifier": drillName,
                                                                                                    "DBSnapshotIdentifier": drillName].merging(tags) { $1 })),
            ("deleting an instance the drill did not create", call("DeleteDBInstance", "us-west-2", ["DBInstanceIdentifier": drillName])),
            ("deleting the production replica", call("DeleteDBInstance", "us-west-2", ["DBInstanceIdentifier": "\(bed.prefix)-replica"])),
            ("promoting another replica", call("PromoteReadReplica", "us-west-2", ["DBInstanceIdentifier": "payroll-replica"])),
            ("reading RDS in another region", call("DescribeDBInstances", "eu-west-1", [:])),
            ("reading metrics in another region", ["service": "monitoring", "operation": "GetMetricData", "region": "eu-west-1", "params": [:]]),
        ]
        let json = { (items: [[String: Any]]) in String(decoding: try JSONSerialization.data(withJSONObject: items), as: UTF8.self) }
        #expect(try bed.evaluate(policy: policy, calls: try json(inside)).denied.isEmpty, "the drill's own snapshot must be allowed")
        for (what, item) in outside {
            #expect(try bed.evaluate(policy: policy, calls: try json([item])).denied.count == 1, "allowed: \(what)")
        }
    }

    @Test func generatedSwitchoverPolicyAllowsEveryCallOfASwitchover() throws {
        let bed = try Bed.make()
        try bed.setUp()
        // The replica has replayed everything the fenced primary wrote: RDS keeps publishing lag 0
        // (straight to moto, so these writes are not among the recorded calls).
        let publisher = Process()
        publisher.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        publisher.arguments = ["python3", "-c", """
        import boto3, os, datetime, time
        cw = boto3.client('cloudwatch', region_name='us-west-2', endpoint_url=os.environ['DRCTL_TESTBED_MOTO_URL'],
            aws_access_key_id=os.environ['DRCTL_TESTBED_ACCESS_KEY_ID'], aws_secret_access_key=os.environ['DRCTL_TESTBED_SECRET_ACCESS_KEY'])
        for _ in range(150):
            cw.put_metric_data(Namespace='AWS/RDS', MetricData=[{'MetricName': 'ReplicaLag', 'Value': 0, 'Unit': 'Seconds',
                'Timestamp': datetime.datetime.now(datetime.timezone.utc),
                'Dimensions': [{'Name': 'DBInstanceIdentifier', 'Value': '\(bed.prefix)-replica'}]}])
            time.sleep(2)
        """]
        publisher.environment = ProcessInfo.processInfo.environment
        try publisher.run()
        defer { publisher.terminate() }
        let calls = try bed.recordCalls([["switchover", "--to", "us-west-2", "--yes"]])
        let verdict = try bed.evaluate(policy: try bed.policy(["switchover"]), calls: calls)
        #expect(verdict.calls > 10)
        #expect(verdict.unmapped.isEmpty, "\(verdict.unmapped)")
        #expect(verdict.denied.isEmpty, "denied by the generated switchover policy: \(verdict.denied)")
    }
}
