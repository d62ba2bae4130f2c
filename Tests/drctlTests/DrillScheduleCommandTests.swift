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
        let lines = result.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(lines.first == "CRON_TZ=UTC")
        let entry = try #require(lines.last.map(String.init))
        let absolute = URL(fileURLWithPath: Self.reference).standardizedFileURL.path
        #expect(entry.hasPrefix("0 6 1 1,4,7,10 * flock -n /var/lock/drctl-drill-reference.lock drctl drill run --plan \(absolute) --yes"))
        #expect(entry.hasSuffix(">> /var/log/drctl/drill-reference.log 2>&1"))
        #expect(!entry.contains("%"))
    }

    @Test func aScheduleEventBridgeCannotExpressIsRefusedForECS() throws {
        let home = try TemporaryHome()
        try home.write("drplan.yaml", """
        name: either
        regions: { primary: us-east-1, dr: us-west-2 }
        drills: { schedule: "0 6 1 * MON" }
        """)
        let result = try DrctlProcess.run(["drill", "schedule", "--print", "ecs", "--plan", home.url.appendingPathComponent("drplan.yaml").path],
                                          home: home.url)
        #expect(result.status == 3)
        #expect(result.stderr.contains("two schedules"))
    }
}
