import Foundation
import Testing

/// The deploy artifacts checked by the tools that consume them: `terraform fmt` / `validate` on
/// deploy/terraform, `systemd-analyze verify` on the printed drill units. Where a tool (or, for
/// `validate`, the AWS provider: the network is closed, so only a local plugin directory can
/// supply it) is missing, the test is skipped, not passed. Each check is also run on a broken copy
/// and must refuse it.
@Suite struct DeployToolingTests {
    // MARK: Terraform

    static let terraform = ToolProcess.which("terraform")

    /// A local provider mirror holding hashicorp/aws (`terraform init -plugin-dir`):
    /// $DRCTL_TERRAFORM_PLUGIN_DIR, else /opt/tf-plugins or ~/.terraform.d/plugins.
    static let awsProviderDirectory: String? = {
        let environment = ProcessInfo.processInfo.environment
        let candidates = [environment["DRCTL_TERRAFORM_PLUGIN_DIR"], "/opt/tf-plugins",
                          environment["HOME"].map { "\($0)/.terraform.d/plugins" }].compactMap { $0 }
        return candidates.first { FileManager.default.fileExists(atPath: "\($0)/registry.terraform.io/hashicorp/aws") }
    }()

    /// No checkpoint call (the network is closed) and no interactive input.
    static let terraformEnvironment = ["CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"]

    /// deploy/terraform's *.tf files copied into a fresh directory (init writes .terraform there,
    /// never into the repository), with `edit` applied to the named file.
    func terraformCopy(editing file: String? = nil, _ edit: (String) -> String = { $0 }) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-tf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: "deploy/terraform") where name.hasSuffix(".tf") {
            let text = try String(contentsOfFile: "deploy/terraform/\(name)", encoding: .utf8)
            try (name == file ? edit(text) : text).write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return directory
    }

    @Test(.enabled(if: terraform != nil, "terraform is not on PATH"))
    func theTerraformIsCanonicallyFormatted() throws {
        let checked = try ToolProcess.run("terraform", ["fmt", "-check", "-recursive", "-diff", "-no-color", "deploy/terraform"],
                                          environment: Self.terraformEnvironment)
        #expect(checked.status == 0, "terraform fmt would change: \(checked.stdout)")

        let misaligned = try terraformCopy(editing: "variables.tf") { $0.replacingOccurrences(of: "variable ", with: "variable  ") }
        defer { try? FileManager.default.removeItem(at: misaligned) }
        let broken = try ToolProcess.run("terraform", ["fmt", "-check", "-recursive", "-no-color", misaligned.path],
                                         environment: Self.terraformEnvironment)
        #expect(broken.status != 0 && broken.stdout.contains("variables.tf"), "\(broken.stdout)\(broken.stderr)")
    }

    func validate(_ directory: URL) throws -> [String: Any] {
        let provider = try #require(Self.awsProviderDirectory)
        let initialized = try ToolProcess.run("terraform", ["init", "-backend=false", "-input=false", "-no-color", "-plugin-dir=\(provider)"],
                                              directory: directory, environment: Self.terraformEnvironment)
        try #require(initialized.status == 0, "terraform init: \(initialized.stdout)\(initialized.stderr)")
        let validated = try ToolProcess.run("terraform", ["validate", "-json", "-no-color"], directory: directory,
                                            environment: Self.terraformEnvironment)
        return try #require(try JSONSerialization.jsonObject(with: Data(validated.stdout.utf8)) as? [String: Any],
                            "terraform validate printed no JSON: \(validated.stderr)")
    }

    @Test(.enabled(if: terraform != nil && awsProviderDirectory != nil,
                   "terraform validate needs the AWS provider from a local plugin directory (the network is closed)"))
    func theTerraformIsValidForTheAWSProvider() throws {
        let copy = try terraformCopy()
        defer { try? FileManager.default.removeItem(at: copy) }
        let result = try validate(copy)
        #expect(result["valid"] as? Bool == true, "\(result["diagnostics"] ?? "")")

        // An argument the provider's schema does not have.
        let broken = try terraformCopy(editing: "ecs.tf") { $0 + "\nresource \"aws_cloudwatch_log_group\" \"typo\" {\n  nmae = \"x\"\n}\n" }
        defer { try? FileManager.default.removeItem(at: broken) }
        let refused = try validate(broken)
        #expect(refused["valid"] as? Bool == false)
        #expect("\(refused["diagnostics"] ?? "")".contains("nmae"), "\(refused)")
    }

    // MARK: systemd

    static let systemdAnalyze = ToolProcess.which("systemd-analyze")

    /// The printed text as the two unit files its header names, in a fresh directory, ExecStart
    /// pointed at /bin/true: `verify` refuses a command that does not exist on this machine.
    func units(_ printed: String, plan: String) throws -> (directory: URL, files: [String]) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-units-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let parts = printed.components(separatedBy: "# --- drctl-drill-\(plan).timer ---\n")
        try #require(parts.count == 2, "no timer separator in: \(printed)")
        let service = parts[0].replacingOccurrences(of: "ExecStart=/usr/local/bin/drctl ", with: "ExecStart=/bin/true ")
        let files = ["drctl-drill-\(plan).service", "drctl-drill-\(plan).timer"]
        try service.write(to: directory.appendingPathComponent(files[0]), atomically: true, encoding: .utf8)
        try parts[1].write(to: directory.appendingPathComponent(files[1]), atomically: true, encoding: .utf8)
        return (directory, files.map { directory.appendingPathComponent($0).path })
    }

    /// `systemd-analyze verify` exits 0 on an unknown key or a value it cannot parse ("…, ignoring"):
    /// like kubectl's strict mode, anything it says is a finding.
    func verify(_ printed: String, plan: String) throws -> DrctlProcess.Result {
        let (directory, files) = try units(printed, plan: plan)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try ToolProcess.run("systemd-analyze", ["verify", "--man=no"] + files, environment: ["SYSTEMD_LOG_COLOR": "0"])
    }

    @Test(.enabled(if: systemdAnalyze != nil, "systemd-analyze is not on PATH"), arguments: [false, true])
    func theSystemdUnitsPassSystemdAnalyzeVerify(_ withChecks: Bool) throws {
        let commands = DrillScheduleCommandTests()
        let printed = withChecks ? try commands.printWithChecks("systemd") : try commands.print("systemd")
        #expect(printed.status == 0, "\(printed.stderr)")
        let plan = withChecks ? "orders-private" : "reference"
        let checked = try verify(printed.stdout, plan: plan)
        #expect(checked.status == 0 && checked.stderr.isEmpty, "\(checked.stderr)")

        let broken = printed.stdout.replacingOccurrences(of: "TimeoutStartSec=", with: "TimeoutStartSecs=")
            .replacingOccurrences(of: "OnCalendar=*-1,4,7,10-1 ", with: "OnCalendar=*-1,4,7,13-1 ")
        let refused = try verify(broken, plan: plan)
        #expect(refused.stderr.contains("Unknown key 'TimeoutStartSecs'") && refused.stderr.contains("calendar"), "\(refused.stderr)")
    }
}
