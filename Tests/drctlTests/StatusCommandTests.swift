import DRCore
import Foundation
import Testing

/// `drctl status` against the test bed (moto, directly): each test builds its own topology
/// (reference_topology.py under a unique prefix) and a plan naming it.
@Suite(.serialized)
struct StatusCommandTests {
    struct Bed {
        let testbed: TestBedEnvironment
        let home: TemporaryHome
        let prefix: String

        static func make() throws -> Bed {
            Bed(testbed: try TestBedEnvironment.require(), home: try TemporaryHome(),
                prefix: "st\(UInt32.random(in: 0...UInt32.max) % 1_000_000)")
        }

        var environment: [String: String] {
            ["AWS_ACCESS_KEY_ID": testbed.accessKeyId, "AWS_SECRET_ACCESS_KEY": testbed.secretAccessKey,
             "AWS_ENDPOINT_URL": testbed.endpointURL, "AWS_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "5",
             "DRCTL_TESTBED_MOTO_URL": testbed.endpointURL, "DRCTL_TESTBED_ACCESS_KEY_ID": testbed.accessKeyId,
             "DRCTL_TESTBED_SECRET_ACCESS_KEY": testbed.secretAccessKey]
        }
        var planPath: String { home.url.appendingPathComponent("drplan.yaml").path }
        var statePath: String { home.url.appendingPathComponent("state.db").path }

        /// The topology with a ReplicaLag datapoint of `lag` seconds (negative: none), optionally
        /// a snapshot of the primary copied into us-west-2, and the plan.
        func setUp(lag: Double, snapshotCopy: Bool) throws {
            let topology = try python(["Tests/TestBed/reference_topology.py", "--prefix", prefix, "--lag", String(lag)])
            #expect(topology.status == 0, "\(topology.stderr)")
            if snapshotCopy {
                let copy = try python(["-c", """
                import boto3, os, time
                kw = dict(endpoint_url=os.environ['DRCTL_TESTBED_MOTO_URL'], aws_access_key_id=os.environ['DRCTL_TESTBED_ACCESS_KEY_ID'],
                          aws_secret_access_key=os.environ['DRCTL_TESTBED_SECRET_ACCESS_KEY'])
                east, west = boto3.client('rds', region_name='us-east-1', **kw), boto3.client('rds', region_name='us-west-2', **kw)
                def wait(client, name):
                    for _ in range(200):
                        if client.describe_db_snapshots(DBSnapshotIdentifier=name)['DBSnapshots'][0]['Status'] == 'available': return
                        time.sleep(0.1)
                    raise SystemExit(name + ' never became available')
                source = east.create_db_snapshot(DBInstanceIdentifier='\(prefix)-primary', DBSnapshotIdentifier='\(prefix)-snap')['DBSnapshot']
                wait(east, '\(prefix)-snap')
                west.copy_db_snapshot(SourceDBSnapshotIdentifier=source['DBSnapshotArn'], TargetDBSnapshotIdentifier='\(prefix)-snap-dr',
                                      SourceRegion='us-east-1')
                wait(west, '\(prefix)-snap-dr')
                """])
                #expect(copy.status == 0, "\(copy.stderr)")
            }
            try home.write("drplan.yaml", """
            name: \(prefix)
            regions: { primary: us-east-1, dr: us-west-2 }
            budgets: { rpo: 1h, rto: 4h }
            aws:
              databases:
                - name: db
                  primary: { region: us-east-1, instance: \(prefix)-primary }
                  replicas: [ { region: us-west-2, instance: \(prefix)-replica } ]
                  fence: stop
                  backup_retention_days: 30
              buckets:
                - { source: \(prefix)-docs, source_region: us-east-1, destination: \(prefix)-docs-dr, destination_region: us-west-2 }
            """)
        }

        func status(_ arguments: [String] = []) throws -> DrctlProcess.Result {
            try DrctlProcess.run(["status", "--plan", planPath, "--state", statePath] + arguments, environment: environment, home: home.url)
        }

        func python(_ arguments: [String], stdin: String? = nil) throws -> DrctlProcess.Result {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3"] + arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let out = Pipe(), err = Pipe(), input = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = stdin == nil ? FileHandle.nullDevice : input
            try process.run()
            if let stdin {
                input.fileHandleForWriting.write(Data(stdin.utf8))
                try input.fileHandleForWriting.close()
            }
            let outData = out.fileHandleForReading.readDataToEndOfFile()
            let errData = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return .init(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
        }

        /// Families parsed by the strict exposition-format checker; records its complaints.
        func checkExposition(_ text: String) throws -> [String: [String: Any]] {
            let checked = try python(["Tests/TestBed/prometheus_check.py"], stdin: text)
            #expect(checked.status == 0, "not valid exposition format:\n\(checked.stderr)\n\(text)")
            return (try? JSONSerialization.jsonObject(with: Data(checked.stdout.utf8)) as? [String: [String: Any]]) ?? [:]
        }
    }

    static func samples(_ families: [String: [String: Any]], _ name: String) -> [(labels: [String: String], value: Double)] {
        ((families[name]?["samples"] as? [[String: Any]]) ?? []).map { ($0["labels"] as? [String: String] ?? [:], $0["value"] as? Double ?? .nan) }
    }

    @Test func smallLagAndAFreshSnapshotCopyAreWithinBudgetInAllThreeFormats() async throws {
        let bed = try Bed.make()
        try bed.setUp(lag: 12, snapshotCopy: true)

        let text = try bed.status()
        #expect(text.status == 0, "\(text.stdout)\n\(text.stderr)")
        #expect(text.stdout.contains("posture OK"))
        #expect(text.stdout.contains("\(bed.prefix)-replica (us-west-2)"))
        #expect(text.stdout.contains("\(bed.prefix)-snap-dr (us-west-2)"))
        #expect(text.stdout.contains("Last drill: none on record"))
        #expect(text.stdout.contains("Lock plan:\(bed.prefix): free"))

        let json = try bed.status(["--output", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(document["state"] as? String == "ok")
        #expect(document["rpoBudgetSeconds"] as? Double == 3600)
        let resources = try #require(document["resources"] as? [[String: Any]])
        #expect(resources.map { $0["name"] as? String } == ["db", "\(bed.prefix)-docs"])
        let points = try #require(resources.first?["recoveryPoints"] as? [[String: Any]])
        #expect(points.first { $0["kind"] as? String == "replica-lag" }?["seconds"] as? Double == 12)
        let snapshotAge = try #require(points.first { $0["kind"] as? String == "snapshot-copy" }?["seconds"] as? Double)
        #expect(snapshotAge < 1800)
        #expect(resources.first?["rpoSeconds"] as? Double == min(12, snapshotAge))

        let prometheus = try bed.status(["--output", "prometheus"])
        #expect(prometheus.status == 0, "\(prometheus.stderr)")
        let families = try bed.checkExposition(prometheus.stdout)
        let lag = Self.samples(families, "drctl_rpo_seconds").first { $0.labels["kind"] == "replica-lag" }
        #expect(lag?.labels == ["plan": bed.prefix, "resource": "db", "kind": "replica-lag"])
        #expect(lag?.value == 12)
        #expect(Self.samples(families, "drctl_rpo_budget_seconds").first?.value == 3600)
        #expect(Self.samples(families, "drctl_rpo_breach").map(\.value) == [0, 0])
        #expect(Self.samples(families, "drctl_rpo_unknown").map(\.value) == [0, 0])
        #expect(Self.samples(families, "drctl_last_drill_success").first?.value == 0)
        for family in ["drctl_rpo_seconds", "drctl_rpo_budget_seconds", "drctl_rpo_breach", "drctl_last_drill_timestamp_seconds", "drctl_last_drill_success"] {
            #expect(families[family]?["type"] as? String == "gauge", "\(family)")
        }
    }

    @Test func aHugeLagWithoutSnapshotCopyIsABreachWithItsOwnExitCode() async throws {
        let bed = try Bed.make()
        try bed.setUp(lag: 7200, snapshotCopy: false)

        let text = try bed.status()
        #expect(text.status == 11, "\(text.stdout)\n\(text.stderr)")
        #expect(text.stdout.contains("posture BREACH"))
        #expect(text.stdout.contains("no available snapshot of \(bed.prefix)-primary in us-west-2"))
        #expect(text.stderr.contains("breached for: db"))

        let json = try bed.status(["--output", "json"])
        #expect(json.status == 11)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(document["state"] as? String == "breach")
        let database = try #require((document["resources"] as? [[String: Any]])?.first)
        #expect(database["rpoSeconds"] as? Double == 7200)
        #expect(database["state"] as? String == "breach")

        let prometheus = try bed.status(["--output", "prometheus"])
        #expect(prometheus.status == 11)
        let families = try bed.checkExposition(prometheus.stdout)
        #expect(Self.samples(families, "drctl_rpo_breach").first { $0.labels["resource"] == "db" }?.value == 1)
        // Measured, and over the budget: data at risk, not a blind probe.
        #expect(Self.samples(families, "drctl_rpo_unknown").first { $0.labels["resource"] == "db" }?.value == 0)
        // The unknown snapshot copy has no sample (there is no number to give); the breach says it.
        #expect(!Self.samples(families, "drctl_rpo_seconds").contains { $0.labels["kind"] == "snapshot-copy" })
    }

    @Test func aLagAboveHalfTheBudgetIsAWarningThatStillExitsZero() async throws {
        let bed = try Bed.make()
        try bed.setUp(lag: 2400, snapshotCopy: false)
        let result = try bed.status(["--output", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(document["state"] as? String == "warning")
        #expect((document["resources"] as? [[String: Any]])?.first?["state"] as? String == "warning")
    }

    /// Issue 16, defect 10: an RPO that could not be measured still counts as a breach, with its
    /// own exit code (14) and metric, so that an alert can tell a blind probe from data loss.
    @Test func anUnknownRPOCountsAsABreachToldApartFromDataLoss() async throws {
        let bed = try Bed.make()
        try bed.setUp(lag: -1, snapshotCopy: false)
        let text = try bed.status()
        #expect(text.status == 14, "\(text.stderr)")
        #expect(text.stderr.contains("RPO unknown (could not be measured) for: db") && !text.stderr.contains("breached for"))
        let prometheus = try bed.status(["--output", "prometheus"])
        #expect(prometheus.status == 14)
        let families = try bed.checkExposition(prometheus.stdout)
        #expect(Self.samples(families, "drctl_rpo_breach").first { $0.labels["resource"] == "db" }?.value == 1)
        #expect(Self.samples(families, "drctl_rpo_unknown").first { $0.labels["resource"] == "db" }?.value == 1)
        let json = try bed.status(["--output", "json"])
        #expect(json.status == 14, "\(json.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let database = try #require((document["resources"] as? [[String: Any]])?.first)
        #expect(database["rpoSeconds"] == nil || database["rpoSeconds"] is NSNull)
        #expect(database["state"] as? String == "breach")
    }

    @Test func theLastDrillAndTheLockHolderComeFromTheStore() async throws {
        let bed = try Bed.make()
        try bed.setUp(lag: 12, snapshotCopy: true)
        let store = try SQLiteStateStore(path: bed.statePath)
        let finished = Date(timeIntervalSince1970: 1_780_000_000)
        try await store.createRun(RunRecord(id: "run-drill-1", runbookName: "drill", runbookPath: "/dev/null", runbookDigest: "0", runbookText: "",
                                            inputs: [:], status: .failed, createdAt: finished.addingTimeInterval(-600), updatedAt: finished,
                                            startedBy: "ci", host: "runner", mode: "drill", lockScope: "plan:\(bed.prefix)"))
        let now = Date()
        _ = try await store.acquireLease(scope: "plan:\(bed.prefix)", holder: LeaseHolder(runId: "run-fo-1", holder: "oncall-alice", host: "laptop",
                                                                                          pid: 4242, acquiredAt: now, expiresAt: now.addingTimeInterval(600)),
                                         ttl: 600, now: now)
        let text = try bed.status()
        #expect(text.stdout.contains("Last drill: run-drill-1 failed"), "\(text.stdout)")
        #expect(text.stdout.contains("held by oncall-alice@laptop pid 4242 (run run-fo-1)"))
        let families = try bed.checkExposition(try bed.status(["--output", "prometheus"]).stdout)
        #expect(Self.samples(families, "drctl_last_drill_timestamp_seconds").first?.value == 1_780_000_000)
        #expect(Self.samples(families, "drctl_last_drill_success").first?.value == 0)
        #expect(Self.samples(families, "drctl_lock_held").first?.value == 1)
    }

    /// Issue 16, defect 8: a drill holds `drill:NAME`, not the plan's failover lock; status reports
    /// each lock on its own (text line, JSON field, a `scope` label on drctl_lock_held).
    @Test func aDrillHoldingItsDrillLockIsShownBesideAFreePlanLock() async throws {
        let bed = try Bed.make()
        try bed.setUp(lag: 12, snapshotCopy: true)
        let store = try SQLiteStateStore(path: bed.statePath)
        let now = Date()
        _ = try await store.acquireLease(scope: "drill:\(bed.prefix)", holder: LeaseHolder(runId: "run-drill-7", holder: "ci", host: "runner",
                                                                                           pid: 77, acquiredAt: now, expiresAt: now.addingTimeInterval(600)),
                                         ttl: 600, now: now)
        let text = try bed.status()
        #expect(text.stdout.contains("Lock plan:\(bed.prefix): free"), "\(text.stdout)")
        #expect(text.stdout.contains("Lock drill:\(bed.prefix): held by ci@runner pid 77 (run run-drill-7)"), "\(text.stdout)")
        let json = try bed.status(["--output", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(document["lock"] == nil || document["lock"] is NSNull)
        #expect((document["drillLock"] as? [String: Any])?["run"] as? String == "run-drill-7")
        let families = try bed.checkExposition(try bed.status(["--output", "prometheus"]).stdout)
        let held = Dictionary(uniqueKeysWithValues: Self.samples(families, "drctl_lock_held").map { ($0.labels["scope"] ?? "none", $0.value) })
        #expect(held == ["plan": 0, "drill": 1])
    }

    @Test func theMetricsArePushedToThePushgateway() async throws {
        let bed = try Bed.make()
        try bed.setUp(lag: 12, snapshotCopy: true)
        let portFile = bed.home.url.appendingPathComponent("pushgateway.port").path
        let record = bed.home.url.appendingPathComponent("pushgateway.jsonl").path
        let stub = Process()
        stub.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        stub.arguments = ["python3", "Tests/TestBed/pushgateway_stub.py", "--port-file", portFile, "--record", record]
        try stub.run()
        defer { stub.terminate(); stub.waitUntilExit() }
        var port: String?
        for _ in 0..<300 where port == nil {
            port = try? String(contentsOfFile: portFile, encoding: .utf8)
            if port == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let gateway = "http://127.0.0.1:\(try #require(port, "the Pushgateway stand-in did not start"))"

        let result = try bed.status(["--output", "prometheus", "--pushgateway", gateway])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1)
        let request = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(request["method"] as? String == "PUT")
        #expect(request["path"] as? String == "/metrics/job/drctl/plan/\(bed.prefix)")
        #expect((request["content_type"] as? String)?.hasPrefix("text/plain; version=0.0.4") == true)
        let body = try #require(request["body"] as? String)
        let families = try bed.checkExposition(body)
        #expect(Self.samples(families, "drctl_rpo_seconds").contains { $0.labels["kind"] == "replica-lag" && $0.value == 12 })
    }

    @Test func aPushgatewayThatRefusesMakesTheCommandFailAsACloudError() async throws {
        let bed = try Bed.make()
        try bed.setUp(lag: 12, snapshotCopy: true)
        let portFile = bed.home.url.appendingPathComponent("pushgateway.port").path
        let stub = Process()
        stub.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        stub.arguments = ["python3", "Tests/TestBed/pushgateway_stub.py", "--port-file", portFile,
                          "--record", bed.home.url.appendingPathComponent("r.jsonl").path, "--status", "500"]
        try stub.run()
        defer { stub.terminate(); stub.waitUntilExit() }
        var port: String?
        for _ in 0..<300 where port == nil {
            port = try? String(contentsOfFile: portFile, encoding: .utf8)
            if port == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let result = try bed.status(["--pushgateway", "http://user:hunter2@127.0.0.1:\(try #require(port))/"])
        #expect(result.status == 9, "\(result.stderr)")
        #expect(result.stderr.contains("HTTP 500"))
        #expect(!result.stderr.contains("hunter2"))
    }
}

/// The exposition checker used above rejects what it should: otherwise the status tests could not fail.
@Suite struct PrometheusCheckerTests {
    func check(_ text: String) throws -> DrctlProcess.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "Tests/TestBed/prometheus_check.py"]
        let input = Pipe(), out = Pipe(), err = Pipe()
        process.standardInput = input
        process.standardOutput = out
        process.standardError = err
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return .init(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    @Test(arguments: [
        ("# HELP a x\n# TYPE a gauge\na{b=\"c\\x\"} 1\n", "bad escape"),
        ("# HELP a x\n# TYPE a gauge\na 1\n# TYPE a gauge\n", "TYPE for a after its samples"),
        ("# HELP a x\n# TYPE a gauge\n# TYPE a gauge\na 1\n", "second TYPE"),
        ("# HELP a x\n# TYPE a gauge\na 1\n# HELP b y\n# TYPE b gauge\nb 1\na{x=\"1\"} 2\n", "not one group"),
        ("# HELP a x\n# TYPE a gauge\na one\n", "bad value"),
        ("# HELP 1a x\n# TYPE 1a gauge\n1a 1\n", "bad metric name"),
        ("# HELP a x\n# TYPE a gauge\na{__x=\"1\"} 1\n", "reserved label"),
        ("# HELP a x\n# TYPE a gauge\na 1\na 2\n", "duplicate series"),
        ("a 1\n", "has no HELP"),
        ("# HELP a x\n# TYPE a gauge\na 1", "newline"),
    ])
    func rejectsMalformedExposition(text: String, problem: String) throws {
        let result = try check(text)
        #expect(result.status == 1)
        #expect(result.stderr.contains(problem), "\(result.stderr)")
    }

    @Test func acceptsDrctlsOwnEscaping() throws {
        let posture = RPOPosture(plan: "p", budgetSeconds: 3600, generatedAt: Date(), resources: [
            ProtectedResourcePosture(name: "odd \"name\"\\ with\nnewline", type: "bucket",
                                     recoveryPoints: [RecoveryPointAge(kind: .replicationBacklog, source: "s", seconds: 0.25, detail: "")]),
        ])
        let result = try check(PrometheusExposition.render(posture))
        #expect(result.status == 0, "\(result.stderr)")
        let families = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [String: Any]] ?? [:]
        let sample = (families["drctl_rpo_seconds"]?["samples"] as? [[String: Any]])?.first
        #expect((sample?["labels"] as? [String: String])?["resource"] == "odd \"name\"\\ with\nnewline")
        #expect(sample?["value"] as? Double == 0.25)
    }
}
