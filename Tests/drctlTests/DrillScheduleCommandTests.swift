import DRCore
import Foundation
import Testing

/// `drctl drill schedule --print …`: the snippets parse as what they claim to be and carry the
/// plan's schedule; deploy/kubernetes/cronjob.yaml is what the command prints for the reference plan.
@Suite struct DrillScheduleCommandTests {
    static let reference = "Runbooks/drplan.yaml"
    static let image = "ghcr.io/OWNER/drctl:0.1.0"

    func print(_ target: String, plan: String = reference) throws -> DrctlProcess.Result {
        try DrctlProcess.run(["drill", "schedule", "--print", target, "--plan", plan, "--image", Self.image], home: try TemporaryHome().url)
    }

    func python(_ script: String, stdin: String) throws -> DrctlProcess.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe(), out = Pipe(), err = Pipe()
        (process.standardInput, process.standardOutput, process.standardError) = (input, out, err)
        try process.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile(), errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return .init(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    @Test func theKubernetesManifestIsACronJobThatForbidsOverlapAndReadsTheStateURLFromASecret() throws {
        let result = try print("kubernetes")
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try python("""
        import json, sys, yaml
        docs = list(yaml.safe_load_all(sys.stdin))
        job = next(d for d in docs if d['kind'] == 'CronJob')
        pod = job['spec']['jobTemplate']['spec']['template']['spec']
        plan = yaml.safe_load(next(d for d in docs if d['kind'] == 'ConfigMap')['data']['drplan.yaml'])
        print(json.dumps({'kinds': [d['kind'] for d in docs], 'schedule': job['spec']['schedule'], 'tz': job['spec']['timeZone'],
            'policy': job['spec']['concurrencyPolicy'], 'sa': pod['serviceAccountName'], 'image': pod['containers'][0]['image'],
            'args': pod['containers'][0]['args'], 'env': pod['containers'][0]['env'][0], 'nonroot': pod['securityContext']['runAsNonRoot'],
            'irsa': next(d for d in docs if d['kind'] == 'ServiceAccount')['metadata']['annotations'], 'plan': plan['name']}))
        """, stdin: result.stdout)
        #expect(summary.status == 0, "\(summary.stderr)")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(summary.stdout.utf8)) as? [String: Any])
        #expect(manifest["kinds"] as? [String] == ["ServiceAccount", "ConfigMap", "CronJob"])
        #expect(manifest["schedule"] as? String == "0 6 1 1,4,7,10 *")
        #expect(manifest["tz"] as? String == "Etc/UTC")
        #expect(manifest["policy"] as? String == "Forbid")
        #expect(manifest["sa"] as? String == "drctl-drill")
        #expect(manifest["image"] as? String == Self.image)
        #expect(manifest["args"] as? [String] == ["drill", "run", "--plan", "/etc/drctl/drplan.yaml", "--yes", "--output", "json"])
        #expect(((manifest["env"] as? [String: Any])?["valueFrom"] as? [String: [String: String]])?["secretKeyRef"] == ["name": "drctl-state", "key": "url"])
        #expect(manifest["nonroot"] as? Bool == true)
        #expect((manifest["irsa"] as? [String: String])?["eks.amazonaws.com/role-arn"]?.hasPrefix("arn:aws:iam::") == true)
        #expect(manifest["plan"] as? String == "reference")
    }

    @Test func theDeployFolderHoldsThePrintedManifestForTheReferencePlan() throws {
        let result = try print("kubernetes")
        let file = try String(contentsOfFile: "deploy/kubernetes/cronjob.yaml", encoding: .utf8)
        #expect(result.stdout == file, "regenerate: drctl drill schedule --print kubernetes --plan Runbooks/drplan.yaml --image \(Self.image) > deploy/kubernetes/cronjob.yaml")
    }

    @Test func theECSScheduleIsSchedulerInputWithTheScheduleInEventBridgeCron() throws {
        let result = try print("ecs")
        #expect(result.status == 0, "\(result.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "stdout is not JSON")
        #expect(document["ScheduleExpression"] as? String == "cron(0 6 1 1,4,7,10 ? *)")
        #expect(document["ScheduleExpressionTimezone"] as? String == "UTC")
        let target = try #require(document["Target"] as? [String: Any])
        let ecs = try #require(target["EcsParameters"] as? [String: Any])
        #expect(ecs["LaunchType"] as? String == "FARGATE")
        #expect((target["RetryPolicy"] as? [String: Int])?["MaximumRetryAttempts"] == 0)
        #expect(result.stderr.contains("aws scheduler create-schedule"))
    }

    @Test func theCrontabEntryRunsTheDrillUnderALockWithItsOutputLogged() throws {
        let result = try print("crontab")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        // No CRON_TZ (Debian's cron ignores it) and no environment file cron never reads.
        #expect(lines.count == 1 && !result.stdout.contains("CRON_TZ") && !result.stdout.contains("/etc/default"))
        let entry = try #require(lines.last.map(String.init))
        let absolute = URL(fileURLWithPath: Self.reference).standardizedFileURL.path
        #expect(entry.hasPrefix("0 6 1 1,4,7,10 * flock -n /var/lock/drctl-drill-reference.lock sh -c "))
        #expect(entry.contains("exec drctl drill run --plan \(absolute) --yes --output json"))
        #expect(entry.hasSuffix(">> /var/log/drctl/drill-reference.log 2>&1"))
        #expect(!entry.contains("%"))
    }

    /// Issue 16, defect 10: the entry's own command refuses on a host whose zone is not UTC (cron
    /// would start it at the schedule's hour in the host's zone), and reads its environment file
    /// itself on a UTC host. Run as cron runs it: the command after the five schedule fields, by sh.
    @Test(arguments: [("America/New_York", false), ("UTC", true)])
    func theCrontabCommandChecksTheHostZoneAndReadsItsEnvironmentFile(_ zone: String, _ utc: Bool) throws {
        let entry = try #require(try print("crontab").stdout.split(separator: "\n").last { !$0.hasPrefix("#") && !$0.isEmpty })
        let command = entry.split(separator: " ", maxSplits: 5).last.map(String.init) ?? ""
        let withoutLog = command.replacingOccurrences(of: " >> /var/log/drctl/drill-reference.log 2>&1", with: "")
            .replacingOccurrences(of: "flock -n /var/lock/drctl-drill-reference.lock ", with: "")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", withoutLog]
        process.environment = ["TZ": zone, "PATH": "/usr/bin:/bin"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        if utc {
            // Past the zone check: it goes for its environment file (absent here).
            #expect(text.contains("/etc/drctl/drill.env") && !text.contains("not UTC"), "\(text)")
        } else {
            #expect(text.contains("time zone is not UTC") && text.contains("--print systemd"), "\(text)")
        }
    }

    /// The systemd timer's calendars fire exactly when the cron schedule does, in UTC (checked by
    /// systemd's own parser), also for Vixie's either-day rule (two OnCalendar= lines).
    @Test(arguments: ["0 6 1 1,4,7,10 *", "30 2 * * 1-5", "15 3 1,15 * 0", "*/20 8-9 * 2 *"])
    func theSystemdTimerFiresWhenTheCronScheduleDoes(_ expression: String) throws {
        let schedule = try CronSchedule(parsing: expression)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var expected: [Date] = []
        var cursor = start
        for _ in 0..<12 {
            guard let next = schedule.next(after: cursor) else { break }
            expected.append(next)
            cursor = next
        }
        var fired: [Date] = []
        for calendar in schedule.systemdCalendars() {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["systemd-analyze", "calendar", "--iterations=12", "--base-time=@\(Int(start.timeIntervalSince1970))", calendar]
            process.environment = ["TZ": "UTC", "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "systemd-analyze refused \(calendar): \(text)")
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "EEE yyyy-MM-dd HH:mm:ss 'UTC'"
            for line in text.split(separator: "\n") where line.contains("Next elapse:") || line.contains("Iter. #") || line.contains("(in UTC)") {
                guard let value = line.split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces),
                      let date = formatter.date(from: value) else { continue }
                fired.append(date)
            }
        }
        let merged = Array(Set(fired)).sorted().prefix(expected.count)
        #expect(Array(merged) == expected, "\(schedule.systemdCalendars())")
    }

    @Test func theSystemdUnitsRunTheDrillWithTheEnvironmentFileAndTheDeadline() throws {
        let result = try print("systemd")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("OnCalendar=*-1,4,7,10-1 6:0:00 UTC"), "\(result.stdout)")
        #expect(result.stdout.contains("EnvironmentFile=/etc/drctl/drill.env"))
        #expect(result.stdout.contains("ExecStart=/usr/local/bin/drctl drill run --plan "))
        #expect(result.stdout.contains("Persistent=true"))
        // The reference plan's max_runtime (2h) plus its margin (1h).
        #expect(result.stdout.contains("TimeoutStartSec=10800"))
    }

    /// A plan with data checks, as an operator writes it: the drill reads the copy's and the
    /// primary's URLs and a check's own comparison URL from the environment, and may run 3 h.
    static let planWithChecks = """
    name: orders-private
    sites: { primary: us-east-1, dr: [us-west-2] }
    budgets: { rpo: 15m, rto: 1h }
    drills:
      schedule: "0 6 1 1,4,7,10 *"
      max_runtime: 3h
      validation: { url_env: DRILL_COPY_URL }
      primary_url_env: DRILL_PRIMARY_URL
      checks:
        - { name: has-orders, action: postgres.check-rows, with: { sql: "select count(*) from orders", min: 1 } }
        - { name: same-totals, action: postgres.check-checksum, with: { table: orders, key_column: id, compare_url_env: DRILL_REPORTING_URL } }
    aws:
      databases:
        - name: orders
          primary: { region: us-east-1, instance: orders-primary }
          replicas: [ { region: us-west-2, instance: orders-replica } ]
    """

    func printWithChecks(_ target: String) throws -> DrctlProcess.Result {
        let home = try TemporaryHome()
        try home.write("drplan.yaml", Self.planWithChecks)
        return try print(target, plan: home.url.appendingPathComponent("drplan.yaml").path)
    }

    /// Issue 16, defects 2 and 4: every URL variable the drill reads comes from a Secret (never a
    /// literal), and Kubernetes stops the job after drills.max_runtime + the margin, not after the RTO budget.
    @Test func theCronJobGetsEveryURLTheDrillReadsFromASecretAndItsDeadlineFromMaxRuntime() throws {
        let result = try printWithChecks("kubernetes")
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try python("""
        import json, sys, yaml
        docs = list(yaml.safe_load_all(sys.stdin))
        job = next(d for d in docs if d['kind'] == 'CronJob')
        container = job['spec']['jobTemplate']['spec']['template']['spec']['containers'][0]
        print(json.dumps({'deadline': job['spec']['jobTemplate']['spec']['activeDeadlineSeconds'],
            'env': {e['name']: e.get('valueFrom', {}).get('secretKeyRef') for e in container['env']},
            'literal': [e['name'] for e in container['env'] if 'value' in e]}))
        """, stdin: result.stdout)
        #expect(summary.status == 0, "\(summary.stderr)")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(summary.stdout.utf8)) as? [String: Any])
        let env = try #require(manifest["env"] as? [String: Any])
        #expect(env["DRCTL_STATE_URL"] as? [String: String] == ["name": "drctl-state", "key": "url"])
        for name in ["DRILL_COPY_URL", "DRILL_PRIMARY_URL", "DRILL_REPORTING_URL"] {
            #expect(env[name] as? [String: String] == ["name": "drctl-drill-orders-private", "key": name], "\(name): \(env)")
        }
        #expect(manifest["literal"] as? [String] == ["AWS_REGION", "HOME"])
        // 3 h of max_runtime + half of it for the teardown of a drill that failed late; not RTO 1 h + 1 h.
        #expect(manifest["deadline"] as? Int == 3 * 3600 + 5400)
        #expect(result.stdout.contains("create secret generic drctl-drill-orders-private --from-literal=DRILL_COPY_URL="))
    }

    @Test func theECSTaskDefinitionGetsEveryURLTheDrillReadsAsSecretsAndIsRegisterTaskDefinitionInput() throws {
        let result = try printWithChecks("ecs-task")
        #expect(result.status == 0, "\(result.stderr)")
        // The shape botocore would send: parameter names and types of RegisterTaskDefinition.
        let validation = try python("""
        import json, sys, botocore.session, botocore.validate
        model = botocore.session.get_session().get_service_model('ecs')
        document = json.load(sys.stdin)
        botocore.validate.validate_parameters(document, model.operation_model('RegisterTaskDefinition').input_shape)
        container = document['containerDefinitions'][0]
        print(json.dumps({s['name']: s['valueFrom'] for s in container['secrets']}))
        """, stdin: result.stdout)
        #expect(validation.status == 0, "\(validation.stderr)")
        let secrets = try #require(try JSONSerialization.jsonObject(with: Data(validation.stdout.utf8)) as? [String: String])
        #expect(Set(secrets.keys) == ["DRCTL_STATE_URL", "DRILL_COPY_URL", "DRILL_PRIMARY_URL", "DRILL_REPORTING_URL"])
        #expect(secrets["DRILL_COPY_URL"]?.hasPrefix("arn:aws:secretsmanager:us-west-2:ACCOUNT_ID:secret:") == true)
        #expect(!result.stdout.contains("postgres://"))
        #expect(result.stderr.contains("aws ecs register-task-definition"))
    }

    /// The same list `drill run` checks before it creates anything: a check's own URL variable too.
    @Test func aDrillWhoseCheckURLIsNotSetIsRefusedBeforeAnythingIsCreated() throws {
        let home = try TemporaryHome()
        try home.write("drplan.yaml", Self.planWithChecks)
        let result = try DrctlProcess.run(["drill", "run", "--plan", home.url.appendingPathComponent("drplan.yaml").path,
                                           "--state", home.url.appendingPathComponent("state.db").path],
                                          environment: ["DRILL_COPY_URL": "postgres://copy.invalid/db", "DRILL_PRIMARY_URL": "postgres://primary.invalid/db",
                                                        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-secret"],
                                          home: home.url)
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("DRILL_REPORTING_URL"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: home.url.appendingPathComponent("state.db").path))
    }

    @Test func aScheduleEventBridgeCannotExpressIsRefusedForECS() throws {
        let home = try TemporaryHome()
        try home.write("drplan.yaml", """
        name: either
        regions: { primary: us-east-1, dr: us-west-2 }
        drills: { schedule: "0 6 1 * MON" }
        aws:
          databases:
            - { name: orders, primary: { region: us-east-1, instance: orders-primary }, replicas: [ { region: us-west-2, instance: orders-replica } ] }
        """)
        let result = try DrctlProcess.run(["drill", "schedule", "--print", "ecs", "--plan", home.url.appendingPathComponent("drplan.yaml").path],
                                          home: home.url)
        #expect(result.status == 3)
        #expect(result.stderr.contains("two schedules"))
    }

    /// Outside tester: a plan whose drill `drill run` refuses (nothing it can copy: self-managed
    /// PostgreSQL is not drilled) got a schedule that would fail every quarter. Now both refuse it,
    /// as a problem of the plan (3), naming the plan's file.
    @Test func aPlanThatCannotDrillGetsNoSchedule() throws {
        let home = try TemporaryHome()
        try home.write("drplan.yaml", """
        name: pg-only
        sites: { primary: us-east-1, dr: [us-west-2] }
        postgres:
          databases:
            - name: ledger
              primary: { site: us-east-1, url_env: LEDGER_PRIMARY_URL }
              standbys: [ { site: us-west-2, url_env: LEDGER_STANDBY_URL } ]
        """)
        let path = home.url.appendingPathComponent("drplan.yaml").path
        for arguments in [["drill", "schedule", "--print", "crontab", "--plan", path], ["drill", "run", "--plan", path, "--print-runbook"]] {
            let result = try DrctlProcess.run(arguments, home: home.url)
            #expect(result.status == 3, "\(arguments): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains("\(path): drills:") && result.stderr.contains("nothing to drill"), "\(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
    }
}
