import DRCore
import Foundation
import Testing

/// Issue 16 ("Tests"): the scheduled-drill artifacts are what the vendors' own schemas accept —
/// the EventBridge Scheduler and ECS inputs by botocore's models (Tests/TestBed/schemas/botocore_input.py),
/// the Kubernetes manifests by the official client's OpenAPI models, strictly
/// (Tests/TestBed/schemas/kubernetes_strict.py) — for the reference plan and a plan with data
/// checks, every URL the drill reads coming from a secret. Each checker is also shown refusing a
/// deliberately broken copy of the same output, so a test cannot pass because its checker accepts anything.
@Suite struct DrillScheduleSchemaTests {
    let commands = DrillScheduleCommandTests()

    enum Plan: String, CaseIterable, CustomTestStringConvertible {
        case reference, withChecks
        var testDescription: String { rawValue }
        /// The URL variables the plan's drill reads (drills.validation.url_env, primary_url_env, each check's own).
        var urlVariables: Set<String> {
            self == .reference ? [] : ["DRILL_COPY_URL", "DRILL_PRIMARY_URL", "DRILL_REPORTING_URL"]
        }
    }

    func print(_ target: String, _ plan: Plan) throws -> DrctlProcess.Result {
        let result = plan == .reference ? try commands.print(target) : try commands.printWithChecks(target)
        #expect(result.status == 0, "\(result.stderr)")
        return result
    }

    /// What the notes on stderr tell the operator to fill in, filled in with values of the right form
    /// (the service checks an account id's twelve digits in every ARN's pattern).
    static func filledIn(_ text: String) -> String {
        text.replacingOccurrences(of: "ACCOUNT_ID", with: "123456789012")
            .replacingOccurrences(of: "SUBNET_ID", with: "subnet-0123456789abcdef0")
            .replacingOccurrences(of: "SECURITY_GROUP_ID", with: "sg-0123456789abcdef0")
            .replacingOccurrences(of: "-SUFFIX", with: "-AbC123")
    }

    func botocoreInput(_ service: String, _ operation: String, _ json: String) throws -> DrctlProcess.Result {
        try ToolProcess.run("python3", ["Tests/TestBed/schemas/botocore_input.py", service, operation], stdin: json)
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    // MARK: EventBridge Scheduler and ECS (botocore)

    @Test(arguments: Plan.allCases)
    func theScheduleIsCreateScheduleInputThatStartsTheTaskDefinitionHoldingThePlansSecrets(_ plan: Plan) throws {
        let schedule = Self.filledIn(try print("ecs", plan).stdout)
        let checked = try botocoreInput("scheduler", "CreateSchedule", schedule)
        #expect(checked.status == 0, "\(checked.stderr)")
        let task = Self.filledIn(try print("ecs-task", plan).stdout)
        let taskChecked = try botocoreInput("ecs", "RegisterTaskDefinition", task)
        #expect(taskChecked.status == 0, "\(taskChecked.stderr)")

        // The schedule starts exactly the task definition printed by --print ecs-task, and overrides
        // nothing in it (an Input with containerOverrides could replace its environment).
        let target = try #require(try json(schedule)["Target"] as? [String: Any])
        #expect(target["Input"] == nil)
        let taskDefinition = try json(task)
        let arn = try #require((target["EcsParameters"] as? [String: Any])?["TaskDefinitionArn"] as? String)
        #expect(arn == "arn:aws:ecs:us-west-2:123456789012:task-definition/\(try #require(taskDefinition["family"] as? String))")
        // Every URL the drill reads is a secret of that task, none a plain environment value.
        let container = try #require((taskDefinition["containerDefinitions"] as? [[String: Any]])?.first)
        let secrets = Set(((container["secrets"] as? [[String: String]]) ?? []).compactMap { $0["name"] })
        let environment = Set(((container["environment"] as? [[String: String]]) ?? []).compactMap { $0["name"] })
        #expect(secrets == plan.urlVariables.union(["DRCTL_STATE_URL"]))
        #expect(environment == ["AWS_REGION", "HOME"])
    }

    @Test func theSchedulerCheckerRefusesABrokenSchedule() throws {
        var document = try json(Self.filledIn(try print("ecs", .withChecks).stdout))
        var target = try #require(document["Target"] as? [String: Any])
        var ecs = try #require(target["EcsParameters"] as? [String: Any])
        ecs["Tags"] = ["drctl:plan": "orders-private"]   // a map where the API takes a list of maps
        ecs["LaunchType"] = "Fargate"                      // not in the enum
        target["EcsParameters"] = ecs
        document["Target"] = target
        document["Name"] = "drctl drill"                    // a space: outside the name's pattern
        let broken = String(decoding: try JSONSerialization.data(withJSONObject: document), as: UTF8.self)
        let checked = try botocoreInput("scheduler", "CreateSchedule", broken)
        #expect(checked.status == 1)
        for path in ["Target.EcsParameters.Tags", "Target.EcsParameters.LaunchType", "Name:"] {
            #expect(checked.stderr.contains(path), "\(path) not named: \(checked.stderr)")
        }
    }

    // MARK: Kubernetes (the official client's OpenAPI models, strictly)

    struct StrictResult {
        let status: Int32
        let stderr: String
        let errors: [String]
        let literalSecrets: [String]
        /// The CronJob's container's environment: name → its source (`secretKeyRef` / `value` …).
        let environment: [String: [String: Any]]
        let kinds: [String]
    }

    func kubernetesStrict(_ manifest: String) throws -> StrictResult {
        let result = try ToolProcess.run("python3", ["Tests/TestBed/schemas/kubernetes_strict.py"], stdin: manifest)
        let output = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                  "the validator printed no JSON: \(result.stderr)")
        let documents = output["documents"] as? [[String: Any]] ?? []
        let cronJob = documents.first { $0["kind"] as? String == "CronJob" }
        let environment = ((cronJob?["containers"] as? [String: Any])?["drctl"] as? [String: [String: Any]]) ?? [:]
        return StrictResult(status: result.status, stderr: result.stderr, errors: output["errors"] as? [String] ?? [],
                            literalSecrets: output["literal_secrets"] as? [String] ?? [], environment: environment,
                            kinds: documents.compactMap { $0["kind"] as? String })
    }

    @Test(arguments: Plan.allCases)
    func theKubernetesManifestIsValidStrictlyAndTakesEveryURLFromASecret(_ plan: Plan) throws {
        let checked = try kubernetesStrict(try print("kubernetes", plan).stdout)
        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(checked.errors.isEmpty && checked.literalSecrets.isEmpty)
        #expect(checked.kinds == ["ServiceAccount", "ConfigMap", "CronJob"])
        let planName = plan == .reference ? "reference" : "orders-private"
        #expect(checked.environment["DRCTL_STATE_URL"]?["secretKeyRef"] as? [String: String] == ["name": "drctl-state", "key": "url"])
        for name in plan.urlVariables {
            #expect(checked.environment[name]?["secretKeyRef"] as? [String: String] == ["name": "drctl-drill-\(planName)", "key": name],
                    "\(name): \(checked.environment)")
        }
        // Literal values only for what is no secret.
        #expect(Set(checked.environment.filter { $0.value["value"] != nil }.keys) == ["AWS_REGION", "HOME"])
    }

    @Test func theDeployFoldersCronJobIsValidStrictly() throws {
        let checked = try kubernetesStrict(try String(contentsOfFile: "deploy/kubernetes/cronjob.yaml", encoding: .utf8))
        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(checked.kinds == ["ServiceAccount", "ConfigMap", "CronJob"])
    }

    @Test func theStrictValidatorRefusesABrokenManifest() throws {
        let manifest = try print("kubernetes", .withChecks).stdout
        let edits = [("concurrencyPolicy: Forbid", "concurrencypolicy: Forbid"),
                     ("activeDeadlineSeconds: 16200", "activeDeadlineSeconds: \"16200\""),
                     ("secretKeyRef: { name: drctl-state, key: url }", "secretKeyRef: { name: drctl-state }"),
                     ("- name: HOME\n                  value: /tmp", "- name: HOME\n                  value: postgres://drill:hunter2@db/x")]
        var broken = manifest
        for (from, to) in edits {
            #expect(broken.contains(from), "the manifest changed: update this test's edit \(from)")
            broken = broken.replacingOccurrences(of: from, with: to)
        }
        let checked = try kubernetesStrict(broken)
        #expect(checked.status == 1)
        for fragment in ["spec.concurrencypolicy: unknown field", "activeDeadlineSeconds: expected an integer",
                         "secretKeyRef.key: required field"] {
            #expect(checked.errors.contains { $0.contains(fragment) }, "\(fragment) not in \(checked.errors)")
        }
        #expect(checked.literalSecrets.count == 1, "\(checked.literalSecrets)")
    }
}
