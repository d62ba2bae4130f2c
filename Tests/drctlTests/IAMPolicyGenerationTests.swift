import Foundation
import Testing

/// `drctl iam policy` without the test bed: the committed terraform policy is current, the output
/// is deterministic and says where its account came from, and bad input exits as documented.
@Suite struct IAMPolicyGenerationTests {
    static let regenerate = ["iam", "policy", "--plan", "Runbooks/drplan.yaml", "--for", "drill", "--format", "terraform", "--name", "drctl_drill"]

    @Test func committedTerraformDrillPolicyIsCurrent() throws {
        let home = try TemporaryHome()
        let result = try DrctlProcess.run(Self.regenerate, home: home.url)
        #expect(result.status == 0, "\(result.stderr)")
        let committed = try String(contentsOfFile: "deploy/terraform/drill_policy.tf", encoding: .utf8)
        #expect(result.stdout == committed, "deploy/terraform/drill_policy.tf is stale: run scripts/gen-docs.sh")
        // As terraform fmt writes it, when terraform is installed.
        if FileManager.default.isExecutableFile(atPath: "/usr/local/bin/terraform") || FileManager.default.isExecutableFile(atPath: "/usr/bin/terraform") {
            try home.write("policy.tf", result.stdout)
            let fmt = try DrctlProcess.python(["-c", "import subprocess, sys; sys.exit(subprocess.run(['terraform', 'fmt', '-check', '-diff', sys.argv[1]]).returncode)",
                                               home.url.appendingPathComponent("policy.tf").path], environment: [:])
            #expect(fmt.status == 0, "terraform fmt would change it: \(fmt.stdout)")
        }
    }

    @Test func policyIsDeterministicScopedToTheAccountAndMarksWildcardOnlyStatements() throws {
        let home = try TemporaryHome()
        let arguments = ["iam", "policy", "--plan", "Runbooks/drplan.yaml", "--for", "all", "--account-id", "210987654321"]
        let first = try DrctlProcess.run(arguments, home: home.url), second = try DrctlProcess.run(arguments, home: home.url)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == second.stdout)
        #expect(first.stderr.contains("account 210987654321: from --account-id"))
        let document = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any]
        #expect(document?["Version"] as? String == "2012-10-17")
        let statements = document?["Statement"] as? [[String: Any]] ?? []
        let sids = statements.compactMap { $0["Sid"] as? String }
        #expect(sids == sids.sorted() && Set(sids).count == statements.count, "Sids unique and sorted: \(sids)")
        for statement in statements {
            let resources = statement["Resource"] as? [String] ?? []
            let sid = statement["Sid"] as? String ?? ""
            if resources == ["*"] {
                #expect(sid.hasPrefix("NoResourceLevelPermissions"), "\(sid) grants on * without saying so")
                #expect((statement["Condition"] as? [String: [String: [String]]])?["StringEquals"]?["aws:RequestedRegion"] != nil)
            } else {
                for resource in resources where !resource.hasPrefix("arn:aws:s3:::") && !resource.hasPrefix("arn:aws:route53:::") {
                    #expect(resource.contains(":210987654321:"), "\(sid): \(resource) is not in the account")
                }
            }
        }
        // The reference drill: the DR replica, drill names and drctl's tags (defect 1 of issue 16).
        let create = statements.first { ($0["Action"] as? [String]) == ["rds:CreateDBSnapshot"] }
        #expect((create?["Resource"] as? [String]) == ["arn:aws:rds:us-west-2:210987654321:db:orders-replica",
                                                       "arn:aws:rds:us-west-2:210987654321:snapshot:drill-reference-orders-*"])
        #expect((create?["Condition"] as? [String: [String: [String]]])?["StringLike"]?["aws:RequestTag/drctl:drill"] == ["run-*"])
    }

    @Test func withoutAccountOrCredentialsItExits8AndSaysWhatToPass() throws {
        let home = try TemporaryHome()
        let result = try DrctlProcess.run(["iam", "policy", "--plan", "Runbooks/drplan.yaml", "--for", "drill"], home: home.url)
        #expect(result.status == 8)
        #expect(result.stderr.contains("pass --account-id"))
        #expect(result.stdout.isEmpty)
    }

    @Test func badFlagsAreUsageErrors() throws {
        let home = try TemporaryHome()
        for arguments in [["--for", "drill"] + ["--account-id", "12"], [], ["--for", "everything", "--account-id", "123456789012"],
                          ["--for", "failover", "--to", "mars-1", "--account-id", "123456789012"]] {
            let result = try DrctlProcess.run(["iam", "policy", "--plan", "Runbooks/drplan.yaml"] + arguments, home: home.url)
            #expect(result.status == 2, "\(arguments): \(result.status) \(result.stderr)")
        }
    }
}
