import Foundation
import Testing

/// `drctl plan --plan P --failover-to SITE` and `drctl validate` of plans with sites and several
/// providers, through the real CLI: nothing is called (no credentials, no network), the generated
/// move is shown, its printed YAML validates and plans the same, and bad sites or missing
/// connection variables are refused before anything changes.
@Suite("Plans with sites and providers through the CLI")
struct PlanMoveCLITests {
    static let mixed = """
    name: mixed
    sites: { primary: us-east-1, dr: [us-west-2, gcp:us-central1] }
    budgets: { rpo: 15m, rto: 1h }
    postgres:
      databases:
        - name: ledger
          primary: { site: us-east-1, url_env: LEDGER_PRIMARY_URL }
          standbys: [ { site: us-west-2, url_env: LEDGER_STANDBY_URL } ]
    aws:
      dns:
        - { zone_name: example.com., name: app.example.com., values: { us-east-1: [a.example.com.], us-west-2: [b.example.com.] } }
      standby:
        us-west-2: { autoscaling_groups: [ { group: web-dr, desired: 4 } ] }
    """

    @Test func aMoveOfAMixedPlanIsShownWithoutCallingAnything() throws {
        let workspace = try RunbookWorkspace()
        let plan = try workspace.write("mixed.yaml", Self.mixed)
        let shown = try workspace.drctl(["plan", "--plan", plan, "--failover-to", "us-west-2"])
        #expect(shown.status == 0, "\(shown.stderr)")
        for id in ["fence-ledger", "promote-ledger", "dns-app-example-com", "scale-web-dr", "report"] {
            #expect(shown.stdout.contains(id), "\(id) missing from \(shown.stdout)")
        }
        #expect(shown.stdout.contains("Plan for failover-mixed-to-us-west-2"), "\(shown.stdout)")

        let printed = try workspace.drctl(["plan", "--plan", plan, "--failover-to", "aws:us-west-2", "--print-runbook"])
        #expect(printed.status == 0, "\(printed.stderr)")
        let file = try workspace.write("printed.yaml", printed.stdout)
        let validated = try workspace.drctl(["validate", file])
        #expect(validated.status == 0, "\(validated.stdout)\(validated.stderr)")
        let replanned = try workspace.drctl(["plan", file])
        #expect(replanned.status == 0, "\(replanned.stderr)")
        // The same waves, the same steps: the printed runbook is the one that would run.
        #expect(replanned.stdout.components(separatedBy: "\n").dropFirst().joined(separator: "\n")
                == shown.stdout.components(separatedBy: "\n").dropFirst().joined(separator: "\n"))
    }

    @Test func validateNamesAPlansSitesAndProviders() throws {
        let workspace = try RunbookWorkspace()
        let plan = try workspace.write("mixed.yaml", Self.mixed)
        let result = try workspace.drctl(["validate", plan])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("ok (DR plan mixed: primary us-east-1, DR us-west-2, gcp:us-central1; aws, postgres)"), "\(result.stdout)")
        // A plan with a typo in its sites key is still read as a plan, and told what it lacks.
        let typo = try workspace.write("typo.yaml", Self.mixed.replacingOccurrences(of: "sites:", with: "site:"))
        let refused = try workspace.drctl(["validate", typo])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("\(typo):2:1: found unknown key 'site'"), "\(refused.stderr)")
        #expect(refused.stderr.contains("found no sites"), "\(refused.stderr)")
    }

    @Test func aSiteThePlanDoesNotNameIsAUsageErrorAndOneWithNothingToMoveIsLocated() throws {
        let workspace = try RunbookWorkspace()
        let plan = try workspace.write("mixed.yaml", Self.mixed)
        let unknown = try workspace.drctl(["plan", "--plan", plan, "--failover-to", "azure:eastus"])
        #expect(unknown.status == 2, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("plan mixed has nothing in azure:eastus (its sites: gcp:us-central1, us-east-1, us-west-2)"), "\(unknown.stderr)")
        let nothing = try workspace.drctl(["plan", "--plan", plan, "--failover-to", "gcp:us-central1"])
        #expect(nothing.status == 3, "\(nothing.stderr)")
        #expect(nothing.stderr.contains("found a plan that protects nothing that can move from us-east-1 to gcp:us-central1"), "\(nothing.stderr)")
        let switchover = try workspace.drctl(["plan", "--plan", plan, "--switchover-to", "us-west-2"])
        #expect(switchover.status == 3, "\(switchover.stderr)")
        #expect(switchover.stderr.contains("a switchover of self-managed PostgreSQL (ledger) is not supported yet"), "\(switchover.stderr)")
    }

    @Test func aFailoverWhoseDatabaseURLIsNotSetEndsWithExitEightBeforeAnythingChanges() throws {
        let workspace = try RunbookWorkspace()
        let plan = try workspace.write("pg.yaml", """
            name: pg
            sites: { primary: us-east-1, dr: [us-west-2] }
            postgres:
              databases:
                - name: ledger
                  primary: { site: us-east-1, url_env: LEDGER_PRIMARY_URL }
                  standbys: [ { site: us-west-2, url_env: LEDGER_STANDBY_URL } ]
            """)
        let result = try DrctlProcess.run(["failover", "--plan", plan, "--to", "us-west-2", "--yes", "--state", workspace.statePath],
                                          environment: ["AWS_REGION": "us-east-1", "LEDGER_PRIMARY_URL": "postgres://drctl:hunter2@127.0.0.1:1/x"],
                                          home: workspace.directory)
        #expect(result.status == 8, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("LEDGER_STANDBY_URL (the URL of database ledger's standby in us-west-2) is not set"), "\(result.stderr)")
        #expect(!(result.stdout + result.stderr).contains("hunter2"))
        #expect(workspace.onlyRunId() == nil, "a run was started")
    }

    @Test func whoamiOfPostgresNamesTheRoleOfEachServerWithoutItsPassword() throws {
        let environment = ProcessInfo.processInfo.environment
        let primary = try #require(environment["DRCTL_TESTBED_PG_PRIMARY_URL"], "the test bed's PostgreSQL pair")
        let standby = try #require(environment["DRCTL_TESTBED_PG_STANDBY_URL"])
        let workspace = try RunbookWorkspace()
        let plan = try workspace.write("pg.yaml", """
            name: pg
            sites: { primary: us-east-1, dr: [us-west-2] }
            postgres:
              databases:
                - name: ledger
                  primary: { site: us-east-1, url_env: LEDGER_PRIMARY_URL }
                  standbys: [ { site: us-west-2, url_env: LEDGER_STANDBY_URL } ]
            """)
        let result = try DrctlProcess.run(["whoami", "--cloud", "postgres", "--plan", plan],
                                          environment: ["LEDGER_PRIMARY_URL": primary, "LEDGER_STANDBY_URL": standby], home: workspace.directory)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("$LEDGER_PRIMARY_URL (ledger primary in us-east-1)\n"), "\(result.stdout)")
        #expect(result.stdout.contains("  role: primary\n") && result.stdout.contains("  role: standby (in recovery)\n"), "\(result.stdout)")
        if let password = URLComponents(string: primary)?.password, !password.isEmpty {
            #expect(!(result.stdout + result.stderr).contains(password), "a password was printed")
        }
        let missing = try DrctlProcess.run(["whoami", "--cloud", "postgres", "--plan", plan], environment: ["LEDGER_PRIMARY_URL": primary],
                                           home: workspace.directory)
        #expect(missing.status == 8, "\(missing.stdout)\(missing.stderr)")
        #expect(missing.stdout.contains("environment variable LEDGER_STANDBY_URL (named by url_env) is not set"), "\(missing.stdout)")
        // GCP's identity is Application Default Credentials, not the plan's: none here is exit 8 (GCPWhoamiCLITests).
        let gcp = try DrctlProcess.run(["whoami", "--cloud", "gcp", "--plan", plan], environment: ["NO_GCE_CHECK": "true"], home: workspace.directory)
        #expect(gcp.status == 8 && gcp.stderr.contains("no Google credentials found"), "\(gcp.stderr)")
    }

    /// Found by an outside tester: `us-west-2` and `aws:us-west-2` are one site, so naming both in
    /// `runbooks:` made the file a failover ran depend on hash order; `plan --plan` showed the
    /// generated move although `failover` would run the plan's own file; a dry run whose preflight
    /// blocks said exit 0.
    @Test func aPlansOwnRunbookIsWhatPlanShowsAndASiteNamedTwiceIsRefused() throws {
        let workspace = try RunbookWorkspace()
        _ = try workspace.write("custom.yaml", "name: custom-failover\nsteps:\n  - { id: only, action: notify, with: { message: hi } }\n")
        let plan = try workspace.write("mixed.yaml", Self.mixed + "\nrunbooks: { failover: { us-west-2: custom.yaml } }\n")
        let shown = try workspace.drctl(["plan", "--plan", plan, "--failover-to", "us-west-2"])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("Plan for custom-failover"), "\(shown.stdout)")
        let twice = try workspace.write("twice.yaml", Self.mixed + "\nrunbooks: { failover: { us-west-2: custom.yaml, aws:us-west-2: other.yaml } }\n")
        let refused = try workspace.drctl(["validate", twice])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("found the site us-west-2 a second time in runbooks.failover (as 'aws:us-west-2')"), "\(refused.stderr)")
    }

    @Test func aDryRunWhosePreflightBlocksExitsAsTheMoveWould() throws {
        let workspace = try RunbookWorkspace()
        let plan = try workspace.write("pg.yaml", Self.mixed.components(separatedBy: "\naws:")[0] + "\n")
        let result = try DrctlProcess.run(["failover", "--plan", plan, "--to", "us-west-2", "--dry-run"],
                                          environment: ["AWS_REGION": "us-east-1", "LEDGER_PRIMARY_URL": "postgres://drctl@127.0.0.1:1/x",
                                                        "LEDGER_STANDBY_URL": "postgres://drctl@127.0.0.1:1/y"], home: workspace.directory)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("dry run: nothing was changed"), "\(result.stdout)")
        #expect(result.stderr.contains("preflight failed"), "\(result.stderr)")
    }
}
