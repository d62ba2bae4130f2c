import AWSProvider
import DRCore
import Foundation
import PostgresProvider
import Testing

/// The provider seam: sites, plan sections of several providers, one composed runbook across
/// providers, and the RPO gate over every provider's loss signals — without a network.
@Suite("Providers: sites, sections, one move across clouds")
struct ProviderSeamTests {
    static func problems(_ text: String) -> [RunbookProblem] {
        do {
            _ = try DRPlanLoader.parse(bytes: Array(text.utf8), path: "plan.yaml", sections: PlanSections.all)
            return []
        } catch {
            return error.problems
        }
    }

    static func plan(_ text: String) throws -> DRPlan {
        try DRPlanLoader.parse(bytes: Array(text.utf8), path: "plan.yaml", sections: PlanSections.all)
    }

    static let mixed = """
    name: mixed
    sites: { primary: us-east-1, dr: [us-west-2, gcp:us-central1, azure:eastus] }
    budgets: { rpo: 15m, rto: 1h }
    postgres:
      databases:
        - name: ledger
          primary: { site: us-east-1, url_env: LEDGER_PRIMARY_URL }
          standbys: [ { site: us-west-2, url_env: LEDGER_STANDBY_URL } ]
          checks: [ { name: recent, action: postgres.check-freshness, with: { table: entries, column: created_at, max_age: 1h } } ]
    aws:
      dns:
        - { zone_id: Z1, name: app.example.com., values: { us-east-1: [a.example.com.], us-west-2: [b.example.com.] } }
      standby:
        us-west-2: { autoscaling_groups: [ { group: web-dr, desired: 4 } ] }
    """

    @Test func sitesParseWithABareRegionMeaningAWS() {
        #expect(Site(parsing: "us-east-1") == Site(cloud: "aws", region: "us-east-1"))
        #expect(Site(parsing: "aws:us-east-1")?.description == "us-east-1")
        #expect(Site(parsing: "gcp:us-central1")?.description == "gcp:us-central1")
        #expect(Site(parsing: "gcp:us-central1")?.slug == "gcp-us-central1")
        #expect(Site(parsing: "") == nil && Site(parsing: "gcp:") == nil && Site(parsing: ":eastus") == nil)
    }

    @Test func aPlanNamesSeveralDRSitesInOrder() throws {
        let plan = try Self.plan(Self.mixed)
        #expect(plan.primarySite == "us-east-1")
        #expect(plan.drSites == ["us-west-2", "gcp:us-central1", "azure:eastus"])
        #expect(plan.drRegion == "us-west-2")
        #expect(plan.site(named: "aws:us-west-2") == "us-west-2")
        #expect(plan.site(named: "gcp:us-central1") == "gcp:us-central1")
        #expect(plan.site(named: "gcp:europe-west4") == nil)
        #expect(plan.postgres.databases.map(\.name) == ["ledger"])
        #expect(plan.aws.records.count == 1)
    }

    @Test func theOldRegionsKeyStillReads() throws {
        let plan = try Self.plan("name: old\nregions: { primary: us-east-1, dr: us-west-2 }\naws:\n  dns: []\n")
        #expect(plan.primarySite == "us-east-1" && plan.drSites == ["us-west-2"])
    }

    @Test(arguments: [
        ("sites: { primary: us-east-1, dr: [mars:olympus-1] }", 2, 35, "found the cloud 'mars'"),
        ("sites: { primary: us-east-1, dr: [gcp:us_central1] }", 2, 35, "expected a gcp region such as us-central1"),
        ("sites: { primary: us-east-1, dr: [azure:East-US] }", 2, 35, "expected a azure region such as eastus"),
        ("sites: { primary: us-east-1, dr: [us-west-2, us-west-2] }", 2, 46, "found the DR site us-west-2 twice"),
        ("sites: { primary: us-east-1, dr: [aws:us-east-1] }", 2, 35, "found the primary site again"),
        ("sites: { primary: us-east-1, dr: [] }", 2, 34, "expected at least one DR site"),
    ])
    func badSitesAreLocated(_ line: String, _ row: Int, _ column: Int, _ message: String) {
        let problems = Self.problems("name: bad\n\(line)\naws:\n  dns: []\n")
        let located = problems.filter { $0.location.line == row && $0.location.column == column }
        #expect(located.count == 1, "\(problems)")
        #expect(located.first?.message.contains(message) == true, "\(problems)")
    }

    @Test func aPlanWithoutSitesSaysWhatItNeeds() {
        let problems = Self.problems("name: bad\naws:\n  dns: []\n")
        #expect(problems.contains { $0.message.contains("found no sites, expected sites:") })
    }

    @Test(arguments: [
        ("primary: { site: us-east-1, url: postgres://u:secret@h/db }", "found unknown key 'url'"),
        ("primary: { site: us-east-1, url_env: 'postgres://x' }", "expected the name of an environment variable"),
        ("primary: { site: gcp:nowhere, url_env: A }", "expected a gcp region"),
    ])
    func badPostgresServersAreLocated(_ primary: String, _ message: String) {
        let text = """
        name: bad
        sites: { primary: us-east-1, dr: [us-west-2] }
        postgres:
          databases:
            - name: ledger
              \(primary)
              standbys: [ { site: us-west-2, url_env: B } ]
        """
        let problems = Self.problems(text)
        #expect(problems.contains { $0.location.line == 6 && $0.message.contains(message) }, "\(problems)")
        #expect(!problems.contains { $0.message.contains("secret") }, "a problem quotes a password: \(problems)")
    }

    @Test func aStandbyInThePrimarysSiteAndAnUnknownCheckAreRefused() {
        let text = """
        name: bad
        sites: { primary: us-east-1, dr: [us-west-2] }
        postgres:
          databases:
            - name: ledger
              primary: { site: us-east-1, url_env: A }
              standbys: [ { site: us-east-1, url_env: B } ]
              checks: [ { name: x, action: postgres.check-freshnes } ]
        """
        let problems = Self.problems(text)
        #expect(problems.contains { $0.location.line == 7 && $0.message.contains("found a standby in the primary's site") }, "\(problems)")
        #expect(problems.contains { $0.location.line == 8 && $0.message.contains("did you mean 'postgres.check-freshness'") }, "\(problems)")
    }

    @Test func aSectionOfACloudWithoutProviderIsRefusedButItsSitesCanBeNamed() throws {
        // Azure's section is refused until its provider exists (GCP's is read: GCPPlanSectionTests).
        #expect(Self.problems("name: p\nsites: { primary: us-east-1, dr: [azure:eastus] }\nazure: { sql: [] }\n")
            .contains { $0.location.line == 3 && $0.location.column == 1 && $0.message.contains("found the section 'azure'") })
        let plan = try Self.plan("name: p\nsites: { primary: us-east-1, dr: [us-west-2, gcp:us-central1] }\naws:\n  dns: []\n")
        #expect(plan.nothingToMove(from: "us-east-1", to: "gcp:us-central1") != nil)
    }

    /// Postgres promotes, AWS moves DNS and brings capacity up: DNS waits for the promotion *and*
    /// the data check of the other provider; the closing notification waits for everything.
    @Test func oneRunbookMixesProvidersThroughTheirPhases() throws {
        let plan = try Self.plan(Self.mixed)
        let runbook = try Self.composer.runbook(plan: plan, move: Move(kind: .failover, from: "us-east-1", to: "us-west-2"), catalog: Self.catalog)
        let ids = runbook.steps.map(\.id)
        #expect(ids == ["scale-web-dr", "fence-ledger", "promote-ledger", "check-ledger-recent", "dns-app-example-com", "report"])
        func step(_ id: String) throws -> RunbookStep { try #require(runbook.step(id)) }
        #expect(try step("promote-ledger").needs == ["fence-ledger"])
        #expect(try step("check-ledger-recent").needs == ["promote-ledger"])
        #expect(try step("check-ledger-recent").call.with["url_env"]?.constantValue == .string("LEDGER_STANDBY_URL"))
        #expect(try step("dns-app-example-com").needs == ["promote-ledger", "check-ledger-recent"])
        #expect(try step("scale-web-dr").needs.isEmpty)
        #expect(try step("report").needs == ["dns-app-example-com", "scale-web-dr"])
        #expect(try step("fence-ledger").onFailure == .ask)
        // The value renders to a runbook that loads back equal: what `--print-runbook` shows is what runs.
        let text = RunbookRenderer.render(runbook)
        let loaded = try RunbookLoader.parse(text: text, path: "printed.yaml", catalog: Self.catalog)
        #expect(loaded.steps.map(\.id) == ids)
        #expect(loaded.steps.map(\.needs) == runbook.steps.map(\.needs))
    }

    /// 40 databases and 30 records: 1,200 edges if each record needed each promotion. They need
    /// one join step instead, and the runbook grows linearly with the plan.
    @Test func manyTrafficStepsAfterManyPromotionsWaitOnOneJoin() throws {
        var text = "name: wide\nsites: { primary: us-east-1, dr: [us-west-2] }\naws:\n  databases:\n"
        for index in 0..<40 {
            text += "    - { name: db\(index), primary: { region: us-east-1, instance: p\(index) }, replicas: [ { region: us-west-2, instance: r\(index) } ] }\n"
        }
        text += "  dns:\n"
        for index in 0..<30 { text += "    - { zone_id: Z1, name: app\(index).example.com., values: { us-west-2: [b.example.com.] } }\n" }
        let runbook = try Self.composer.runbook(plan: try Self.plan(text), move: Move(kind: .failover, from: "us-east-1", to: "us-west-2"), catalog: Self.catalog)
        let join = try #require(runbook.step("ready-for-traffic"))
        #expect(join.needs == (0..<40).map { "promote-db\($0)" })
        #expect(join.call.action == "check")
        #expect(runbook.steps.filter { $0.call.action == "aws.route53.upsert-record" }.allSatisfy { $0.needs == ["ready-for-traffic"] })
        #expect(runbook.steps.reduce(0) { $0 + $1.needs.count } < 200)
        // Below the threshold (the golden plans), traffic needs each promotion itself.
        let few = try Self.composer.runbook(plan: try Self.plan(Self.mixed), move: Move(kind: .failover, from: "us-east-1", to: "us-west-2"), catalog: Self.catalog)
        #expect(few.step("ready-for-traffic") == nil)
        _ = try RunbookLoader.parse(text: RunbookRenderer.render(runbook), path: "wide.yaml", catalog: Self.catalog)
    }

    @Test func aSwitchoverOfSelfManagedPostgresIsRefusedNotFaked() throws {
        let plan = try Self.plan(Self.mixed)
        #expect {
            try Self.composer.runbook(plan: plan, move: Move(kind: .switchover, from: "us-east-1", to: "us-west-2"), catalog: Self.catalog)
        } throws: { error in
            // Located at the database: an exit-3 error names file:line:column.
            (error as? RunbookValidationError)?.problems.map(\.location.line) == [6] && "\(error)".contains("plan.yaml:6:")
        }
    }

    @Test func aGeneratorDefectIsCaughtBeforeAnythingRuns() throws {
        struct Broken: DRProvider {
            var name: String { "broken" }
            func actions() -> [any RunbookAction] { [] }
            func preflight(_ move: Move, plan: DRPlan) async -> PreflightFindings { PreflightFindings() }
            func moveSteps(_ move: Move, plan: DRPlan, ids: inout StepIdentifiers) throws -> [MoveStep] {
                [MoveStep(RunbookStep(id: ids.make("x"), call: ActionCall(action: "broken.nothing"), needs: ["later"]), phase: .traffic)]
            }
        }
        let plan = try Self.plan(Self.mixed)
        #expect {
            try MoveComposer(providers: [Broken()]).runbook(plan: plan, move: Move(kind: .failover, from: "us-east-1", to: "us-west-2"), catalog: Self.catalog)
        } throws: { error in
            let text = "\(error)"
            return text.contains("action broken.nothing is not available") && text.contains("needs later, which is not an earlier step")
        }
    }

    @Test func theGateWeighsTheLargestLossOfAnyProviderAndRefusesTheUnknown() {
        let over = MovePreflight.Report(checks: [], expectedDataLoss: 1200, unknownLossReasons: [])
        if case .refused(let message) = RPOGate.judge(over, kind: .failover, budget: 900, acceptedLoss: nil, by: "me") {
            #expect(message.contains("expected data loss 20m is over the RPO budget of 15m"))
        } else { Issue.record("over budget was not refused") }
        if case .accepted(let note) = RPOGate.judge(over, kind: .failover, budget: 900, acceptedLoss: 1800, by: "me") {
            #expect(note["by"] == .string("me"))
        } else { Issue.record("an acceptance above the loss was not taken") }
        let unknown = MovePreflight.Report(checks: [], expectedDataLoss: nil, unknownLossReasons: ["ledger: lag not readable"])
        #expect(RPOGate.judge(unknown, kind: .switchover, budget: 900, acceptedLoss: nil, by: "me")
                == .refused("switchover needs the replicas' lag to be known (it waits for them to catch up); use failover"))
        let blocked = MovePreflight.Report(checks: [PreflightCheck(name: "x", ok: false, detail: "gone", blocking: true)], expectedDataLoss: 0)
        #expect(RPOGate.judge(blocked, kind: .failover, budget: 900, acceptedLoss: 99_999, by: "me") == .blocked("preflight failed:\n  x: gone"))
    }

    @Test func thePreflightMergesProvidersAndOneUnknownLossMakesTheWholeUnknown() async throws {
        struct Fixed: DRProvider {
            let findings: PreflightFindings
            var name: String { "fixed" }
            func actions() -> [any RunbookAction] { [] }
            func preflight(_ move: Move, plan: DRPlan) async -> PreflightFindings { findings }
            func moveSteps(_ move: Move, plan: DRPlan, ids: inout StepIdentifiers) throws -> [MoveStep] { [] }
        }
        let plan = try Self.plan(Self.mixed)
        let move = Move(kind: .failover, from: "us-east-1", to: "us-west-2")
        let known = await MovePreflight.run(move, plan: plan, providers: [Fixed(findings: .init(losses: [30, 300])), Fixed(findings: .init(losses: [120]))])
        #expect(known.expectedDataLoss == 300)
        let partly = await MovePreflight.run(move, plan: plan, providers: [Fixed(findings: .init(losses: [30])),
                                                                           Fixed(findings: .init(unknownLossReasons: ["b: lag not readable"]))])
        #expect(partly.expectedDataLoss == nil && partly.unknownLossReasons == ["b: lag not readable"])
    }

    @Test func aMoveWhoseDatabaseURLIsNotSetStopsBeforeAnythingWithTheVariablesNamed() async throws {
        let plan = try Self.plan(Self.mixed)
        let move = Move(kind: .failover, from: "us-east-1", to: "us-west-2")
        await #expect {
            _ = try await PostgresProvider(environment: ["LEDGER_PRIMARY_URL": "postgres://u:hunter2@h/db"]).prepare(move, plan: plan)
        } throws: { error in
            let text = "\(error)"
            return error is ProviderCredentialsMissing && text.contains("LEDGER_STANDBY_URL (the URL of database ledger's standby in us-west-2) is not set")
                && !text.contains("LEDGER_PRIMARY_URL") && !text.contains("hunter2")
        }
        let environment = ["LEDGER_PRIMARY_URL": "postgres://a", "LEDGER_STANDBY_URL": "postgres://b"]
        _ = try await PostgresProvider(environment: environment).prepare(move, plan: plan)
        // A move the database takes no part in needs none of its variables.
        _ = try await PostgresProvider(environment: [:]).prepare(Move(kind: .failover, from: "us-west-2", to: "us-east-1"), plan: plan)
    }

    static let providers: [any DRProvider] = [
        AWSCloudProvider(client: AWSClient(transport: CurlTransport(), credentials: StaticCredentialProvider(nil), endpoints: StaticEndpointResolver())),
        PostgresProvider(),
    ]
    static let composer = MoveComposer(providers: providers)
    static let catalog: ActionCatalog = {
        var registry = ActionRegistry.builtIns
        for provider in providers { provider.actions().forEach { registry.register($0) } }
        return registry.catalog
    }()
}
