import Foundation
import Testing
@testable import AWSProvider
@testable import DRCore
import GCPProvider
import PostgresProvider

/// The GCP reference plan's generated failover and drill, step for step, against golden files
/// (compared as values, like `GeneratedRunbookGoldenTests`), and what a move refuses to write.
/// To accept a deliberate change: `DRCTL_UPDATE_GOLDEN=1 swift test --filter GCPGeneratedRunbookTests`.
@Suite struct GCPGeneratedRunbookTests {
    static let providers: [any DRProvider] = FailoverRunbookTests.providers + [GCPCloudProvider(environment: [:])]
    static let registry: ActionRegistry = {
        var registry = ActionRegistry.builtIns
        for provider in providers { provider.actions().forEach { registry.register($0) } }
        return registry
    }()
    static let planPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Runbooks/drplan-gcp.yaml").standardized.path

    static func compare(_ runbook: Runbook, golden name: String) throws {
        let reparsed = try RunbookLoader.parse(text: RunbookRenderer.render(runbook), path: "generated", catalog: registry.catalog)
        let dump = try GeneratedRunbookGoldenTests.canonical(reparsed)
        let file = GeneratedRunbookGoldenTests.directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["DRCTL_UPDATE_GOLDEN"] == "1" { try dump.write(to: file, atomically: true, encoding: .utf8) }
        let golden = try String(contentsOf: file, encoding: .utf8)
        #expect(dump == golden, "\(name) differs: regenerate with DRCTL_UPDATE_GOLDEN=1 only if the change is deliberate")
    }

    static func runbook(_ plan: DRPlan, _ kind: Move.Kind, to: Site) throws -> Runbook {
        try MoveComposer(providers: providers).runbook(plan: plan, move: Move(kind: kind, from: "us-east-1", to: to), catalog: registry.catalog)
    }

    @Test func failoverToGCPMatchesItsGoldenFile() throws {
        let plan = try DRPlanLoader.load(path: Self.planPath, sections: PlanSections.all)
        let runbook = try Self.runbook(plan, .failover, to: "gcp:us-central1")
        // The shape that matters, beyond the golden file: the RDS primary is fenced before the
        // Cloud SQL replica is promoted, and traffic moves only after the promotion.
        let steps = Dictionary(uniqueKeysWithValues: runbook.steps.map { ($0.id, $0) })
        #expect(steps["fence-orders"]?.call.action == "aws.rds.fence-instance")
        #expect(steps["promote-orders"]?.call.action == "gcp.sql.promote-replica" && steps["promote-orders"]?.needs == ["fence-orders"])
        #expect(steps["dns-app-example-com"]?.needs == ["promote-orders"])
        #expect(steps["scale-orders-dr-workers"]?.needs == [])
        try Self.compare(runbook, golden: "reference-gcp.failover.us-east-1-to-gcp-us-central1.json")
    }

    @Test func drillInGCPMatchesItsGoldenFile() throws {
        let plan = try DRPlanLoader.load(path: Self.planPath, sections: PlanSections.all)
        let drill = try DrillComposer.make(plan: plan, site: "gcp:us-central1", runId: "run-20261205-120000-abc123",
                                           providers: Self.providers, available: Set(Self.registry.catalog.actions.keys))
        let claim = drill.runbook.steps.first { $0.id == "claim-instance-orders" }
        #expect(claim?.compensate?.action == "gcp.sql.delete-instance")
        #expect(drill.runbook.steps.first { $0.id == "clone-orders" }?.needs == ["claim-instance-orders"])
        try Self.compare(drill.runbook, golden: "reference-gcp.drill.gcp-us-central1.json")
    }

    @Test func aSwitchoverOfAnExternalPrimaryIsRefusedWithWhy() throws {
        let plan = try DRPlanLoader.load(path: Self.planPath, sections: PlanSections.all)
        #expect {
            try Self.runbook(plan, .switchover, to: "gcp:us-central1")
        } throws: { error in
            "\(error)".contains("primary is outside Google Cloud") && "\(error)".contains("use failover")
        }
    }

    static let cloudSQLPrimary = """
    name: native
    sites: { primary: gcp:us-east4, dr: [gcp:us-central1] }
    budgets: { rpo: 15m, rto: 1h }
    gcp:
      project: orders-dr-prod
      databases:
        - name: orders
          primary: { site: gcp:us-east4, instance: orders-primary }
          replicas: [ { site: gcp:us-central1, instance: orders-dr } ]
          fence: stop
    """

    @Test func aCloudSQLPrimaryIsFencedThenPromotedOrSwitchedOver() throws {
        let plan = try DRPlanLoader.parse(bytes: Array(Self.cloudSQLPrimary.utf8), path: "plan.yaml", sections: PlanSections.all)
        let move = { (kind: Move.Kind) in
            try MoveComposer(providers: Self.providers).runbook(plan: plan, move: Move(kind: kind, from: "gcp:us-east4", to: "gcp:us-central1"),
                                                                catalog: Self.registry.catalog)
        }
        let failover = try move(.failover)
        #expect(failover.steps.map(\.call.action) == ["gcp.sql.fence", "gcp.sql.promote-replica", "notify"])
        #expect(failover.steps[0].call.with["instance"]?.constantValue == .string("orders-primary"))
        #expect(failover.steps[0].onFailure == .ask)
        let switchover = try move(.switchover)
        #expect(switchover.steps.map(\.call.action) == ["gcp.sql.switchover", "notify"])
        #expect(switchover.steps[0].call.with["instance"]?.constantValue == .string("orders-dr"))
    }

    @Test func anExternalPrimaryFollowingAMissingDatabaseIsAProblemNotASilentSkip() throws {
        let text = try String(contentsOfFile: Self.planPath, encoding: .utf8).replacingOccurrences(of: "follows: aws:orders", with: "follows: aws:billing")
        let plan = try DRPlanLoader.parse(bytes: Array(text.utf8), path: "plan.yaml", sections: PlanSections.all)
        #expect {
            try Self.runbook(plan, .failover, to: "gcp:us-central1")
        } throws: { error in
            "\(error)".contains("follows aws:billing, which the plan's aws section does not have")
        }
    }
}
