import DRCore
import Foundation
import Testing

/// A drill composed from several providers' parts: the checks and the RPO measurement need every
/// copy, teardown waits for the checks, the report for every teardown chain, and the cost guard
/// weighs the longest chain of estimates — whatever clouds the copies are in.
@Suite("Drill composer: one drill across providers")
struct DrillComposerTests {
    /// A provider that makes one copy per database it is given, in any site: claim → copy → delete.
    struct Copier: DRProvider {
        let prefix: String
        let databases: [String]
        var copyEstimate = 300.0
        var name: String { prefix }
        func actions() -> [any RunbookAction] { [] }
        func preflight(_ move: Move, plan: DRPlan) async -> PreflightFindings { PreflightFindings() }
        func moveSteps(_ move: Move, plan: DRPlan, ids: inout StepIdentifiers) throws -> [MoveStep] { [] }
        func drillPart(plan: DRPlan, site: Site, runId: String, ids: inout StepIdentifiers) throws -> DrillPart {
            var part = DrillPart()
            for database in databases {
                let claim = ids.make("claim", database), copy = ids.make("copy", database), delete = ids.make("delete", database)
                let notify = { (id: String, needs: [String], estimate: Double?) in
                    RunbookStep(id: id, call: ActionCall(action: "notify", with: ["message": .literal(.string(id))]), needs: needs, estimate: estimate)
                }
                part.steps.append(DrillStep(notify(claim, [], nil), phase: .create, timeoutBasis: 60))
                part.steps.append(DrillStep(notify(copy, [claim], copyEstimate), phase: .create, timeoutBasis: copyEstimate))
                part.steps.append(DrillStep(notify(delete, [], 100), phase: .teardown(afterValidation: true), timeoutBasis: 100))
                part.copies.append(copy)
                part.resources.append(DrillResource(database: database, site: site.description, source: "\(database)-replica",
                                                    created: [.init(kind: "clone", name: "\(prefix)-\(database)", claim: claim, teardown: delete)]))
            }
            return part
        }
    }

    static let plan = """
    name: shop
    sites: { primary: us-east-1, dr: [us-west-2] }
    budgets: { rpo: 15m, rto: 1h }
    drills:
      max_runtime: 1h
      validation: { url_env: COPY_URL }
      primary_url_env: PRIMARY_URL
      checks: [ { name: rows, action: postgres.check-rows, with: { sql: 'select count(*) from orders', min: 1 } } ]
    aws:
      dns: []
    """

    static let available: Set<String> = ["notify", "postgres.check-rows", DrillComposer.heartbeatAction]

    @Test func checksNeedEveryCopyOfEveryProviderAndTeardownWaitsForThem() throws {
        let plan = try ProviderSeamTests.plan(Self.plan)
        // Two providers naming the same database: their step ids stay unique.
        let drill = try DrillComposer.make(plan: plan, site: "us-west-2", runId: "run-1-abc",
                                           providers: [Copier(prefix: "a", databases: ["orders"]), Copier(prefix: "b", databases: ["orders", "users"])],
                                           available: Self.available)
        let steps = drill.runbook.steps
        #expect(Set(steps.map(\.id)).count == steps.count)
        let copies = ["copy-orders", "copy-orders-2", "copy-users"]
        #expect(drill.runbook.step("check-rows")?.needs == copies)
        #expect(drill.runbook.step("measure-rpo")?.needs == copies)
        #expect(drill.runbook.step("check-rows")?.call.with["url_env"] == .literal(.string("COPY_URL")))
        for delete in ["delete-orders", "delete-orders-2", "delete-users"] {
            #expect(drill.runbook.step(delete)?.needs == ["check-rows", "measure-rpo"])
        }
        #expect(drill.runbook.step("report")?.needs == ["delete-orders", "delete-orders-2", "delete-users"])
        #expect(drill.resources.map(\.database) == ["orders", "orders", "users"])
        #expect(drill.runbook.budgets == RunbookBudgets(rpo: 900, rto: 3600))
        // What the run pins loads back (every step known, every need earlier).
        _ = try RunbookLoader.parse(text: RunbookRenderer.render(drill.runbook), path: "drill.yaml",
                                    catalog: ProviderSeamTests.catalog)
    }

    @Test func theCostGuardWeighsTheLongestChainAndSharesMaxRuntimeOut() throws {
        let plan = try ProviderSeamTests.plan(Self.plan)
        // copy 300 → check 120 → delete 100 = 520 s of 3600: timeouts scaled by 3600/520.
        let drill = try DrillComposer.make(plan: plan, site: "us-west-2", runId: "run-1-abc",
                                           providers: [Copier(prefix: "a", databases: ["orders"])], available: Self.available)
        #expect(drill.estimate == 520)
        #expect(drill.runbook.step("copy-orders")?.timeout == (300 * 3600 / 520.0).rounded(.down))
        #expect(drill.runbook.step("claim-orders")?.timeout == (60 * 3600 / 520.0).rounded(.down))
        let slow = Copier(prefix: "a", databases: ["orders"], copyEstimate: 3500)
        #expect {
            try DrillComposer.make(plan: plan, site: "us-west-2", runId: "run-1-abc", providers: [slow], available: Self.available)
        } throws: { error in
            (error as? DrillProblem)?.refusedByCostGuard == true && "\(error)".contains("over drills.max_runtime 1h")
        }
    }

    @Test func aDrillWithNothingToCopyOrAnUnknownCheckIsRefused() throws {
        let plan = try ProviderSeamTests.plan(Self.plan)
        #expect {
            try DrillComposer.make(plan: plan, site: "us-west-2", runId: "r", providers: [Copier(prefix: "a", databases: [])], available: Self.available)
        } throws: { error in
            (error as? DrillProblem)?.refusedByCostGuard == false && "\(error)".contains("nothing to drill")
        }
        #expect {
            try DrillComposer.make(plan: plan, site: "us-west-2", runId: "r", providers: [Copier(prefix: "a", databases: ["orders"])], available: ["notify"])
        } throws: { error in
            "\(error)".contains("check rows names postgres.check-rows, which this drctl does not provide")
        }
    }

    @Test func withoutChecksTeardownWaitsForTheCopies() throws {
        let text = Self.plan.replacingOccurrences(of: "  checks: [ { name: rows, action: postgres.check-rows, with: { sql: 'select count(*) from orders', min: 1 } } ]\n", with: "")
            .replacingOccurrences(of: "  validation: { url_env: COPY_URL }\n  primary_url_env: PRIMARY_URL\n", with: "")
        let plan = try ProviderSeamTests.plan(text)
        let drill = try DrillComposer.make(plan: plan, site: "us-west-2", runId: "r", providers: [Copier(prefix: "a", databases: ["orders", "users"])],
                                           available: Self.available)
        #expect(drill.rpoNotMeasuredReason != nil && drill.runbook.step("measure-rpo") == nil)
        #expect(drill.runbook.step("delete-users")?.needs == ["copy-orders", "copy-users"])
    }
}

/// Issue 16, defect 3: the copy's URL as a template, filled from the step that made each copy.
@Suite("Drill composer: url_template")
struct DrillURLTemplateTests {
    struct Restorer: DRProvider {
        var name: String { "restorer" }
        func actions() -> [any RunbookAction] { [] }
        func preflight(_ move: Move, plan: DRPlan) async -> PreflightFindings { PreflightFindings() }
        func moveSteps(_ move: Move, plan: DRPlan, ids: inout StepIdentifiers) throws -> [MoveStep] { [] }
        func drillPart(plan: DRPlan, site: Site, runId: String, ids: inout StepIdentifiers) throws -> DrillPart {
            var part = DrillPart()
            for database in ["orders", "users"] {
                let copy = ids.make("restore", database), delete = ids.make("delete", database)
                part.steps.append(DrillStep(RunbookStep(id: copy, call: ActionCall(action: "notify", with: ["message": .literal(.string("x"))]), estimate: 60),
                                            phase: .create, timeoutBasis: 60))
                part.steps.append(DrillStep(RunbookStep(id: delete, call: ActionCall(action: "notify", with: ["message": .literal(.string("x"))]), estimate: 60),
                                            phase: .teardown(afterValidation: true), timeoutBasis: 60))
                part.copies.append(copy)
                part.resources.append(DrillResource(database: database, site: site.description, source: "r", created: [],
                                                    endpoint: .init(step: copy, host: "${{ steps.\(copy).outputs.address }}",
                                                                    port: "${{ steps.\(copy).outputs.port }}")))
            }
            return part
        }
    }

    static func plan(_ validation: String) throws -> DRPlan {
        try ProviderSeamTests.plan("""
        name: shop
        sites: { primary: us-east-1, dr: [us-west-2] }
        drills:
          validation: \(validation)
          primary_url_env: PRIMARY_URL
          checks: [ { name: rows, action: postgres.check-rows, with: { sql: 'select 1', min: 1 } } ]
        aws:
          dns: []
        """)
    }

    @Test func eachCopyIsCheckedAtItsOwnURLAfterItsOwnRestore() throws {
        let plan = try Self.plan("{ url_template: 'postgres://check@{host}:{port}/shop?sslmode=verify-full' }")
        let drill = try DrillComposer.make(plan: plan, site: "us-west-2", runId: "r", providers: [Restorer()], available: DrillComposerTests.available)
        let check = try #require(drill.runbook.step("check-rows-users"))
        #expect(check.needs == ["restore-users"])
        #expect(check.call.with["url"]?.sourceText
                == "postgres://check@${{ steps.restore-users.outputs.address }}:${{ steps.restore-users.outputs.port }}/shop?sslmode=verify-full")
        #expect(check.call.with["url_env"] == nil)
        let rpo = try #require(drill.runbook.step("measure-rpo-orders"))
        #expect(rpo.needs == ["restore-orders"] && rpo.call.with["copy_url"] != nil)
        #expect(drill.runbook.step("delete-orders")?.needs == ["check-rows-orders", "check-rows-users", "measure-rpo-orders", "measure-rpo-users"])
        _ = try RunbookLoader.parse(text: RunbookRenderer.render(drill.runbook), path: "drill.yaml", catalog: ProviderSeamTests.catalog)
    }

    @Test(arguments: [
        ("{ url_template: 'postgres://check:hunter2@{host}/shop' }", "found a password in drills.validation.url_template"),
        ("{ url_template: 'host={host} dbname=shop password=hunter2' }", "found a password in drills.validation.url_template"),
        ("{ url_template: 'postgres://check@db.example.com/shop' }", "found no {host}"),
        ("{ url_template: 'postgres://check@{host}/{database}' }", "found {database}"),
        ("{ url_env: COPY, url_template: 'postgres://{host}/shop' }", "found both url_env and url_template"),
        ("{}", "found neither url_env nor url_template"),
    ])
    func aBadTemplateIsALocatedPlanError(_ validation: String, _ message: String) {
        let problems = ProviderSeamTests.problems("""
        name: shop
        sites: { primary: us-east-1, dr: [us-west-2] }
        drills:
          validation: \(validation)
        aws:
          dns: []
        """)
        #expect(problems.contains { $0.location.line == 4 && $0.message.contains(message) }, "\(problems)")
        #expect(!problems.contains { $0.message.contains("hunter2") })
    }
}

extension DrillURLTemplateTests {
    /// A scheduled drill whose copy URL comes from a template is given PGPASSWORD from its secret.
    @Test func aTemplatedDrillsJobGetsThePasswordFromItsSecret() throws {
        let plan = try Self.plan("{ url_template: 'postgres://check@{host}:{port}/shop' }")
        #expect(plan.drill.urlEnvironmentVariables == ["PRIMARY_URL"])
        #expect(plan.drill.secretEnvironmentVariables == ["PRIMARY_URL", "PGPASSWORD"])
        let byVariable = try Self.plan("{ url_env: COPY_URL }")
        #expect(byVariable.drill.secretEnvironmentVariables == ["COPY_URL", "PRIMARY_URL"])
    }
}
