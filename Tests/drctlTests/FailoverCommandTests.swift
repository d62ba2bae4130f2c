import DRCore
import Foundation
import Testing

/// `drctl failover` against the test bed, through the CLI's own fault proxy. Each test builds its
/// own copy of the reference topology (unique names) and asserts on the test bed's state.
@Suite(.serialized)
struct FailoverCommandTests {
    struct Bed {
        let moto: String
        let proxy: String
        let key: String
        let secret: String
        let home: TemporaryHome
        let prefix: String

        static func make() throws -> Bed {
            let env = ProcessInfo.processInfo.environment
            guard let moto = env["DRCTL_TESTBED_MOTO_URL"], let proxy = env["DRCTL_TESTBED_CLI_PROXY_URL"],
                  let key = env["DRCTL_TESTBED_ACCESS_KEY_ID"], let secret = env["DRCTL_TESTBED_SECRET_ACCESS_KEY"] else {
                Issue.record("the test bed is not running: run scripts/test.sh")
                throw CancellationError()
            }
            return Bed(moto: moto, proxy: proxy, key: key, secret: secret, home: try TemporaryHome(),
                       prefix: "fo\(UInt32.random(in: 0...UInt32.max) % 1_000_000)")
        }

        var environment: [String: String] {
            ["AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_ENDPOINT_URL": proxy, "AWS_REGION": "us-east-1",
             "DRCTL_TESTBED_MOTO_URL": moto, "DRCTL_TESTBED_ACCESS_KEY_ID": key, "DRCTL_TESTBED_SECRET_ACCESS_KEY": secret]
        }
        var planPath: String { home.url.appendingPathComponent("drplan.yaml").path }
        var statePath: String { home.url.appendingPathComponent("state.db").path }

        /// The isolating security group of the plans' fence (the test bed does not check it exists).
        static let isolatingGroup = "sg-0isolate"

        /// The reference topology under this test's prefix, and a plan naming it. Each primary has a
        /// read replica, so RDS (and the test bed) refuse `fence: stop`: the plans isolate instead.
        func setUp(lag: Double = 12, replicas: Int = 1, secretReplica: Bool = true, fence: String = "security-group",
                   nodegroup: String = "workers") throws {
            let result = try python(["Tests/TestBed/reference_topology.py", "--prefix", prefix, "--lag", String(lag), "--replicas", String(replicas)]
                                    + (secretReplica ? [] : ["--no-secret-replica"]))
            #expect(result.status == 0, "\(result.stderr)")
            let databases = (1...replicas).map { index -> String in
                let suffix = index == 1 ? "" : "-\(index)"
                return """
                    - name: db\(index)
                      primary: { region: us-east-1, instance: \(prefix)-primary\(suffix) }
                      replicas: [ { region: us-west-2, instance: \(prefix)-replica\(suffix) } ]
                      fence: \(fence)
                      fence_security_groups: [ \(Self.isolatingGroup) ]
                      backup_retention_days: 30
                """
            }.joined(separator: "\n")
            try home.write("drplan.yaml", """
            name: \(prefix)
            regions: { primary: us-east-1, dr: us-west-2 }
            budgets: { rpo: 1h, rto: 4h }
            aws:
              databases:
            \(databases)
              buckets:
                - { source: \(prefix)-docs, source_region: us-east-1, destination: \(prefix)-docs-dr, destination_region: us-west-2, storage_class: STANDARD_IA }
              secrets:
                - { name: \(prefix)/db-credentials, region: us-east-1, promote_on_failover: true }
              dns:
                - { zone_name: \(prefix).example.com., name: app.\(prefix).example.com., type: CNAME, ttl: 60,
                    values: { us-east-1: [app-use1.\(prefix).example.com.], us-west-2: [app-usw2.\(prefix).example.com.] } }
              standby:
                us-west-2:
                  eks_nodegroups: [ { cluster: \(prefix)-dr, nodegroup: \(nodegroup), min: 2, max: 20, desired: 6 } ]
            """)
        }

        /// `drctl failover --to us-west-2` of this bed's plan and state, confirmed with --yes.
        func failoverArguments(_ more: String...) -> [String] {
            ["failover", "--to", "us-west-2", "--plan", planPath, "--state", statePath, "--yes"] + more
        }

        func drctl(_ arguments: [String], extra: [String: String] = [:]) throws -> DrctlProcess.Result {
            try DrctlProcess.run(arguments, environment: environment.merging(extra) { $1 }, home: home.url)
        }

        func python(_ arguments: [String]) throws -> DrctlProcess.Result {
            try DrctlProcess.python(arguments, environment: environment)
        }

        /// The test bed's view of the topology (not drctl's).
        func inspect() throws -> [String: Any] {
            let result = try python(["Tests/TestBed/inspect_topology.py", "--prefix", prefix])
            return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        }

        @discardableResult
        func control(_ method: String, _ path: String, _ body: [String: Any]? = nil, base: String? = nil) async throws -> [String: Any] {
            let transport = CurlTransport(configuration: .init(proxy: ProxySettings()))
            let bytes = try body.map { Array(try JSONSerialization.data(withJSONObject: $0)) } ?? []
            let response = try await transport.send(HTTPRequest(method: method, url: (base ?? proxy) + path,
                                                                headers: body == nil ? [:] : ["Content-Type": "application/json"], body: bytes))
            return (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
        }

        func resetProxy() async throws { try await control("DELETE", "/_faults") }

        /// "service:Operation" of every call the proxy saw since it was reset, in order.
        func log() async throws -> [String] {
            let transport = CurlTransport(configuration: .init(proxy: ProxySettings()))
            let response = try await transport.send(HTTPRequest(method: "GET", url: proxy + "/_faults/log"))
            let entries = try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]] ?? []
            return entries.map { "\($0["service"] as? String ?? "?"):\($0["operation"] as? String ?? "?")" }
        }

        func calls(_ service: String, _ operation: String) async throws -> Int {
            let counts = try await control("GET", "/_faults/counts")
            return ((counts["requests"] as? [String: [String: Int]])?[service]?[operation]) ?? 0
        }

        /// A ReplicaLag datapoint for the replica, stamped now (as RDS publishes every minute).
        func putLag(_ seconds: Double) throws {
            let result = try python(["-c", """
            import boto3, os, datetime
            boto3.client('cloudwatch', region_name='us-west-2', endpoint_url=os.environ['DRCTL_TESTBED_MOTO_URL'],
                aws_access_key_id=os.environ['DRCTL_TESTBED_ACCESS_KEY_ID'], aws_secret_access_key=os.environ['DRCTL_TESTBED_SECRET_ACCESS_KEY']
            ).put_metric_data(Namespace='AWS/RDS', MetricData=[{'MetricName': 'ReplicaLag', 'Value': \(seconds), 'Unit': 'Seconds',
                'Timestamp': datetime.datetime.now(datetime.timezone.utc),
                'Dimensions': [{'Name': 'DBInstanceIdentifier', 'Value': '\(prefix)-replica'}]}])
            """])
            #expect(result.status == 0, "\(result.stderr)")
        }

        func runId() throws -> String {
            let runs = try drctl(["runs", "--state", statePath, "--output", "json"])
            let list = try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]]
            return try #require(list?.first?["id"] as? String)
        }
    }

    @Test func failoverPromotesCutsDNSOverAndScalesUp() async throws {
        let bed = try Bed.make()
        try bed.setUp()
        let result = try bed.drctl(bed.failoverArguments())
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let state = try bed.inspect()
        let replica = try #require(state["replica"] as? [String: Any])
        #expect(replica["status"] as? String == "available")
        #expect(replica["source"] == nil || replica["source"] is NSNull)
        #expect((state["primary"] as? [String: Any])?["security_groups"] as? [String] == [Bed.isolatingGroup])
        #expect((state["records"] as? [String: [String]])?["app.\(bed.prefix).example.com."] == ["app-usw2.\(bed.prefix).example.com."])
        #expect((state["standby_nodegroup"] as? [String: Int])?["desiredSize"] == 6)
        // The secret's replica is standalone now, and the old primary no longer replicates to it.
        let secret = try #require(state["secret"] as? [String: [String: Any]])
        #expect(secret["us-west-2"]?["error"] == nil, "\(secret)")
        #expect([nil, "us-west-2"].contains(secret["us-west-2"]?["primary_region"] as? String), "\(secret)")
        #expect((secret["us-east-1"]?["replicas"] as? [String])?.contains("us-west-2") == false, "\(secret)")
        #expect(result.stdout.contains("RTO measured"))
        #expect(result.stdout.contains("promote-secret-\(bed.prefix)-db-credentials: standalone; rotation is off there"), "\(result.stdout)")
    }

    @Test func failoverIsRefusedWhenASecretHasNoReplicaInTheTargetRegion() async throws {
        let bed = try Bed.make()
        try bed.setUp(secretReplica: false)
        try await bed.resetProxy()
        let refused = try bed.drctl(bed.failoverArguments())
        #expect(refused.status == 1, "\(refused.stdout)\n\(refused.stderr)")
        #expect(refused.stderr.contains("secret \(bed.prefix)/db-credentials has no replica in us-west-2"), "\(refused.stderr)")
        #expect(try await bed.calls("secretsmanager", "DescribeSecret") >= 1)
        #expect(try await bed.calls("rds", "ModifyDBInstance") == 0)   // not fenced
        #expect(try await bed.calls("rds", "PromoteReadReplica") == 0)
        #expect(try await bed.calls("route53", "ChangeResourceRecordSets") == 0)
    }

    @Test func lagAboveTheBudgetIsRefusedUnlessTheLossIsAccepted() async throws {
        let bed = try Bed.make()
        try bed.setUp(lag: 7200)
        try await bed.resetProxy()
        let refused = try bed.drctl(bed.failoverArguments())
        #expect(refused.status == 4, "\(refused.stderr)")
        #expect(refused.stderr.contains("over the RPO budget"))
        #expect(try await bed.calls("rds", "PromoteReadReplica") == 0)
        #expect(try await bed.calls("rds", "ModifyDBInstance") == 0)   // not fenced

        let tooLittle = try bed.drctl(bed.failoverArguments("--accept-data-loss", "1h"))
        #expect(tooLittle.status == 4)

        let accepted = try bed.drctl(bed.failoverArguments("--accept-data-loss", "3h", "--operator", "oncall-alice"))
        #expect(accepted.status == 0, "\(accepted.stderr)")
        let journal = try bed.drctl(["show", try bed.runId(), "--state", bed.statePath, "--journal"])
        #expect(journal.stdout.contains("event=data-loss-accepted"))
        #expect(journal.stdout.contains("by=oncall-alice"))
        // The summary names who accepted how much.
        #expect(accepted.stdout.contains("data loss accepted: up to 3h by oncall-alice (expected 2h"), "\(accepted.stdout)")
        #expect((try bed.inspect()["replica"] as? [String: Any])?["status"] as? String == "available")
    }

    @Test func throttlingAndServerErrorsAtARealisticRateDoNotStopTheFailover() async throws {
        let bed = try Bed.make()
        try bed.setUp()
        try await bed.resetProxy()
        _ = try await bed.control("POST", "/_faults", ["seed": 11, "rules": [
            ["service": "*", "operation": "*", "fault": "throttle", "probability": 0.12],
            ["service": "*", "operation": "*", "fault": "error5xx", "status": 503, "probability": 0.04],
        ]])
        let result = try bed.drctl(bed.failoverArguments(),
                                   extra: ["AWS_MAX_ATTEMPTS": "6"])
        try await bed.resetProxy()
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let state = try bed.inspect()
        #expect((state["replica"] as? [String: Any])?["status"] as? String == "available")
        #expect((state["records"] as? [String: [String]])?["app.\(bed.prefix).example.com."] == ["app-usw2.\(bed.prefix).example.com."])
    }

    @Test func aFailoverOfSeveralDatabasesReadsThemTogetherAndChangesEachOnce() async throws {
        let bed = try Bed.make()
        try bed.setUp(replicas: 4)
        try await bed.resetProxy()
        let result = try bed.drctl(bed.failoverArguments())
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let entries = try await bed.log()
        let firstFence = try #require(entries.firstIndex { $0 == "rds:ModifyDBInstance" })
        let preflight = entries[..<firstFence]
        // The preflight reads the four replicas together and the four primaries (the fences'
        // targets) together: one DescribeDBInstances per region, one GetMetricData (more if a busy
        // machine spreads the reads past the 10 ms in which they are gathered).
        #expect((2...4).contains(preflight.filter { $0 == "rds:DescribeDBInstances" }.count), "\(preflight)")
        #expect((1...2).contains(preflight.filter { $0 == "monitoring:GetMetricData" }.count), "\(preflight)")
        #expect(!preflight.contains { $0.hasSuffix("GetMetricStatistics") })
        // Each change once: a first try calls at once, without reading the instance first.
        #expect(entries.filter { $0 == "rds:ModifyDBInstance" }.count == 4)
        #expect(entries.filter { $0 == "rds:RebootDBInstance" }.count == 4)
        #expect(entries.filter { $0 == "rds:PromoteReadReplica" }.count == 4)
        #expect(entries.filter { $0 == "route53:ChangeResourceRecordSets" }.count == 1)
    }

    @Test func aFailoverGoesOnWhenRoute53CannotBeAskedAtPreflightAndTheDNSStepLooksTheZoneUp() async throws {
        let bed = try Bed.make()
        try bed.setUp()
        try await bed.resetProxy()
        // Every attempt of the preflight's zone lookup fails (the client tries 3 times).
        try await bed.control("POST", "/_faults", ["rules": [["service": "route53", "operation": "ListHostedZones", "fault": "error5xx",
                                                             "status": 503, "times": 3]]])
        let result = try bed.drctl(bed.failoverArguments())
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("the DNS step will look its zone up when it runs"), "\(result.stdout)")
        let state = try bed.inspect()
        #expect((state["records"] as? [String: [String]])?["app.\(bed.prefix).example.com."] == ["app-usw2.\(bed.prefix).example.com."])
        #expect((state["replica"] as? [String: Any])?["status"] as? String == "available")
        #expect(try await bed.calls("route53", "ListHostedZones") == 4)
    }

    @Test func dryRunMakesNoMutatingCall() async throws {
        let bed = try Bed.make()
        try bed.setUp()
        try await bed.resetProxy()
        let result = try bed.drctl(["failover", "--to", "us-west-2", "--plan", bed.planPath, "--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("PromoteReadReplica"))
        #expect(result.stdout.contains("StopReplicationToReplica"))   // the plan promotes its secret
        let counts = try await bed.control("GET", "/_faults/counts")["requests"] as? [String: [String: Int]] ?? [:]
        let mutating = ["PromoteReadReplica", "StopDBInstance", "ModifyDBInstance", "RebootDBInstance", "ChangeResourceRecordSets",
                        "UpdateNodegroupConfig", "PutObject", "SetDesiredCapacity", "UpdateService", "UpdateRoutingControlState",
                        "StopReplicationToReplica"]
        for (service, operations) in counts {
            for operation in operations.keys {
                #expect(!mutating.contains(operation), "dry run called \(service) \(operation)")
            }
        }
        #expect(!counts.isEmpty)   // it did read (preflight)
        #expect((try bed.inspect()["replica"] as? [String: Any])?["source"] is String)
    }

    @Test func aSecondConcurrentFailoverOfThePlanIsRefused() async throws {
        let bed = try Bed.make()
        try bed.setUp()
        _ = try await bed.control("POST", "/_testbed/config", ["rds": ["promote": 6]], base: bed.moto)
        
        let first = try DrctlChild(bed.failoverArguments(),
                                   home: bed.home.url, environment: bed.environment)
        // Wait until the first holds the plan's lease.
        var held = false
        for _ in 0..<100 where !held {
            try await Task.sleep(for: .seconds(0.1))
            let runs = try bed.drctl(["runs", "--state", bed.statePath, "--output", "json"])
            held = runs.stdout.contains("lockHeldBy")
        }
        #expect(held)
        let second = try bed.drctl(bed.failoverArguments())
        #expect(second.status == 7, "\(second.stderr)")
        #expect(second.stderr.contains("locked by run"))
        let outcome = first.finish(within: 60)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        try await bed.control("POST", "/_testbed/config", ["rds": ["promote": 3]], base: bed.moto)
    }

    @Test func killedDuringPromotionThenResumedCallsPromoteExactlyOnce() async throws {
        let bed = try Bed.make()
        try bed.setUp()
        try await bed.resetProxy()
        _ = try await bed.control("POST", "/_testbed/config", ["rds": ["promote": 5]], base: bed.moto)
        
        // A short lease: after the kill, the resume must wait for the dead holder's lease to expire.
        let first = try DrctlChild(bed.failoverArguments("--lease-ttl", "2"),
                                   home: bed.home.url, environment: bed.environment)
        var promoted = 0
        for _ in 0..<200 where promoted == 0 {
            try await Task.sleep(for: .seconds(0.05))
            promoted = try await bed.calls("rds", "PromoteReadReplica")
        }
        #expect(promoted == 1)
        try await Task.sleep(for: .seconds(0.5))   // promotion under way (5 s in the test bed)
        #expect(first.crash())
        let id = try bed.runId()
        // On the same machine the dead holder is seen at once (its pid is gone): no wait for expiry.
        let resumed = try bed.drctl(["resume", id, "--state", bed.statePath, "--yes"])
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(try await bed.calls("rds", "PromoteReadReplica") == 1)
        let state = try bed.inspect()
        #expect((state["replica"] as? [String: Any])?["status"] as? String == "available")
        #expect((state["records"] as? [String: [String]])?["app.\(bed.prefix).example.com."] == ["app-usw2.\(bed.prefix).example.com."])
        try await bed.control("POST", "/_testbed/config", ["rds": ["promote": 3]], base: bed.moto)
    }

    @Test func switchoverFencesFirstWaitsForTheReplicaToCatchUpThenPromotes() async throws {
        let bed = try Bed.make()
        try bed.setUp(lag: 4)
        let child = try DrctlChild(["switchover", "--to", "us-west-2", "--plan", bed.planPath, "--state", bed.statePath, "--yes"],
                                   home: bed.home.url, environment: bed.environment)
        // The primary is fenced before anything else happens to the replica.
        var fenced = false
        for _ in 0..<300 where !fenced {
            try await Task.sleep(for: .seconds(0.1))
            fenced = (try bed.inspect()["primary"] as? [String: Any])?["security_groups"] as? [String] == [Bed.isolatingGroup]
        }
        #expect(fenced)
        #expect((try bed.inspect()["replica"] as? [String: Any])?["source"] is String)   // not promoted while lag is unknown
        // The replica has replayed everything the fenced primary wrote; RDS keeps publishing that.
        for _ in 0..<60 where child.isRunning {
            try bed.putLag(0)
            try await Task.sleep(for: .seconds(2))
        }
        let result = child.finish(within: 60)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let state = try bed.inspect()
        #expect((state["replica"] as? [String: Any])?["status"] as? String == "available")
        #expect((state["records"] as? [String: [String]])?["app.\(bed.prefix).example.com."] == ["app-usw2.\(bed.prefix).example.com."])
        // A planned move leaves the secret replicating from its primary.
        #expect(((state["secret"] as? [String: [String: Any]])?["us-west-2"]?["primary_region"] as? String) == "us-east-1")
    }
}
