import Foundation
import Testing
import Yams
@testable import AWSProvider
import PostgresProvider
@testable import DRCore

/// The DR plan file and the runbooks generated from it: located problems for bad plans, and
/// generated runbooks that validate against the AWS actions' own parameter declarations.
@Suite struct FailoverRunbookTests {
    /// Never called: the providers are only asked for their steps and their actions' declarations.
    static let providers: [any DRProvider] = [
        AWSCloudProvider(client: AWSClient(transport: CurlTransport(), credentials: StaticCredentialProvider(nil), endpoints: StaticEndpointResolver())),
        PostgresProvider(),
    ]
    static let composer = MoveComposer(providers: providers)
    static let registry: ActionRegistry = {
        var registry = ActionRegistry.builtIns
        for provider in providers { provider.actions().forEach { registry.register($0) } }
        return registry
    }()

    /// The generated runbook of a move, as `drctl failover --print-runbook` shows it.
    static func yaml(plan: DRPlan, kind: Move.Kind, from: String, to: String) throws -> String {
        let move = Move(kind: kind, from: try #require(Site(parsing: from)), to: try #require(Site(parsing: to)))
        return RunbookRenderer.render(try composer.runbook(plan: plan, move: move, catalog: registry.catalog))
    }

    static let plan = """
    name: shop
    regions: { primary: us-east-1, dr: us-west-2 }
    budgets: { rpo: 30m, rto: 2h }
    aws:
      databases:
        - name: orders
          primary: { region: us-east-1, instance: orders-primary }
          replicas: [ { region: us-west-2, instance: orders-replica } ]
          fence: security-group
          fence_security_groups: [ sg-0isolate ]
        - name: billing
          primary: { region: us-east-1, instance: billing-primary }
          replicas: [ { region: us-west-2, instance: billing-replica } ]
      secrets:
        - { name: shop/db, region: us-east-1, promote_on_failover: true }
        - { name: shop/api-key, region: us-east-1 }
      dns:
        - { zone_id: Z123, name: app.shop.example., type: CNAME, ttl: 60,
            values: { us-east-1: [use1.shop.example.], us-west-2: [usw2.shop.example.] } }
      standby:
        us-west-2: { eks_nodegroups: [ { cluster: shop-dr, nodegroup: workers, min: 2, max: 10, desired: 4 } ] }
    """

    static func steps(_ yaml: String) throws -> [String: [String: Any]] {
        let document = try #require(try Yams.load(yaml: yaml) as? [String: Any])
        let steps = try #require(document["steps"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: steps.map { ($0["id"] as? String ?? "?", $0) })
    }

    @Test func theReferencePlanLoadsWithItsSecret() throws {
        let plan = try DRPlanLoader.load(path: "Runbooks/drplan.yaml", sections: PlanSections.all)
        #expect(plan.name == "reference")
        #expect(plan.aws.secrets == [.init(name: "orders/db-credentials", region: "us-east-1", promoteOnFailover: true)])
        // RDS refuses to stop a primary that has read replicas: the reference plan isolates it.
        #expect(plan.aws.databases.map(\.fence) == ["security-group"])
        #expect(plan.aws.databases.first?.fenceSecurityGroups.isEmpty == false)
    }

    /// Issue 16, defect 6: the drill runbook carries the plan's budgets, so its progress and its
    /// evidence judge the drill against them (as a failover's do).
    @Test func theGeneratedDrillRunbookCarriesThePlansBudgets() throws {
        let text = Self.plan.replacingOccurrences(of: "budgets: { rpo: 30m, rto: 2h }", with: "budgets: { rpo: 15m, rto: 1h }")
        #expect(text != Self.plan)
        let plan = try DRPlanLoader.parse(bytes: Array(text.utf8), path: "shop.yaml", sections: PlanSections.all)
        let drill = try DrillComposer.make(plan: plan, site: "us-west-2", runId: "run-20260401-060000-abcdef",
                                           providers: Self.providers, available: Set(Self.registry.names))
        let runbook = try RunbookLoader.parse(text: RunbookRenderer.render(drill.runbook), path: "drill.yaml", catalog: Self.registry.catalog)
        #expect(runbook.budgets == RunbookBudgets(rpo: 15 * 60, rto: 3600))
    }

    @Test func aGeneratedFailoverValidatesAgainstTheActionsAndOrdersItsSteps() throws {
        let plan = try DRPlanLoader.parse(bytes: Array(Self.plan.utf8), path: "shop.yaml", sections: PlanSections.all)
        #expect(plan.aws.databases.first?.fenceSecurityGroups == ["sg-0isolate"])
        #expect(plan.regions.contains("us-east-1"))
        let yaml = try Self.yaml(plan: plan, kind: .failover, from: "us-east-1", to: "us-west-2")
        let runbook = try RunbookLoader.parse(text: yaml, path: "generated.yaml", catalog: Self.registry.catalog)
        #expect(runbook.steps.count == 8)   // scale, 2 × (fence, promote), promote-secret, dns, report
        let steps = try Self.steps(yaml)
        let fence = try #require(steps["fence-orders"]?["with"] as? [String: Any])
        #expect(fence["method"] as? String == "security-group")
        #expect(fence["security_groups"] as? [String] == ["sg-0isolate"])
        #expect(steps["promote-orders"]?["needs"] as? [String] == ["fence-orders"])
        // A fence retries what is transient; any other failure stops the move before promotion (or
        // the operator, asked, proceeds unfenced).
        #expect(steps["fence-orders"]?["on_failure"] as? String == "ask")
        let fenceRetry = try #require(steps["fence-orders"]?["retry"] as? [String: Any])
        #expect(fenceRetry["attempts"] as? Int == 5)
        #expect(Set(fenceRetry["on"] as? [String] ?? []) == ["transient", "throttling", "timeout"])
        // After the point of no return capacity is not critical: traffic needs only the promotions,
        // and a failed scale-up is tolerated (the run ends degraded).
        #expect(Set(steps["dns-app-shop-example"]?["needs"] as? [String] ?? []) == ["promote-orders", "promote-billing"])
        #expect(steps["scale-shop-dr-workers"]?["on_failure"] as? String == "continue")
        #expect((steps["report"]?["needs"] as? [String])?.contains("scale-shop-dr-workers") == true)
        // Only the secret marked promote_on_failover is promoted, once the databases are.
        let secret = try #require(steps["promote-secret-shop-db"])
        #expect(secret["action"] as? String == "aws.secretsmanager.promote-replica")
        #expect(secret["with"] as? [String: String] == ["region": "us-west-2", "secret": "shop/db"])
        #expect(Set(secret["needs"] as? [String] ?? []) == ["promote-orders", "promote-billing"])
        #expect(secret["on_failure"] as? String == "continue")
        #expect(!steps.keys.contains { $0.contains("api-key") })
        #expect((steps["report"]?["needs"] as? [String])?.contains("promote-secret-shop-db") == true)
    }

    @Test func namesThatReadAlikeAsStepIdsGetDistinctSteps() throws {
        let text = """
        name: shop
        regions: { primary: us-east-1, dr: us-west-2 }
        aws:
          databases:
            - { name: secret-db, primary: { region: us-east-1, instance: a }, replicas: [ { region: us-west-2, instance: b } ] }
          secrets:
            - { name: db, region: us-east-1, promote_on_failover: true }
            - { name: shop/db, region: us-east-1, promote_on_failover: true }
            - { name: shop-db, region: us-east-1, promote_on_failover: true }
        """
        let plan = try DRPlanLoader.parse(bytes: Array(text.utf8), path: "shop.yaml", sections: PlanSections.all)
        let yaml = try Self.yaml(plan: plan, kind: .failover, from: "us-east-1", to: "us-west-2")
        let runbook = try RunbookLoader.parse(text: yaml, path: "generated.yaml", catalog: Self.registry.catalog)
        let secretSteps = runbook.steps.filter { $0.call.action == "aws.secretsmanager.promote-replica" }.map(\.id)
        // The database secret-db's promotion came first and holds promote-secret-db.
        #expect(runbook.steps.first { $0.id == "promote-secret-db" }?.call.action == "aws.rds.promote-read-replica")
        #expect(secretSteps == ["promote-secret-db-2", "promote-secret-shop-db", "promote-secret-shop-db-2"])
        #expect(Set(runbook.steps.map(\.id)).count == runbook.steps.count)
    }

    @Test func aGeneratedSwitchoverWaitsForEachReplicaBetweenFenceAndPromotion() throws {
        let plan = try DRPlanLoader.parse(bytes: Array(Self.plan.utf8), path: "shop.yaml", sections: PlanSections.all)
        let yaml = try Self.yaml(plan: plan, kind: .switchover, from: "us-east-1", to: "us-west-2")
        _ = try RunbookLoader.parse(text: yaml, path: "generated.yaml", catalog: Self.registry.catalog)
        let steps = try Self.steps(yaml)
        #expect(steps["catch-up-billing"]?["needs"] as? [String] == ["fence-billing"])
        #expect(steps["promote-secret-shop-db"] == nil)   // a planned move keeps the secret's primary where it is
        #expect(steps["promote-billing"]?["needs"] as? [String] == ["catch-up-billing"])
        #expect((steps["fence-billing"]?["on_failure"] as? String ?? "abort") == "abort")   // the default, not written
    }

    @Test func planProblemsAreLocated() throws {
        let bad = """
        name: shop
        regions: { primary: us-east-1, dr: us-west-2 }
        aws:
          databases:
            - name: orders
              primary: { region: us-east-1, instance: orders-primary }
              replicas: [ { region: us-west-2, instance: orders-replica } ]
              fence: security-group
            - name: billing
              primary: { region: us-east-1, instance: billing-primary }
              replicas: [ { region: us-west-2, instance: billing-replica } ]
              fence: teleport
          secrets:
            - { name: "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/db-AbCdEf", region: us-east-1 }
            - { name: shop/api-key, region: us-east-1, promote_on_failover: "yes please" }
        """
        let error = #expect(throws: RunbookValidationError.self) { try DRPlanLoader.parse(bytes: Array(bad.utf8), path: "bad.yaml", sections: PlanSections.all) }
        let problems = error?.problems.map { "\($0.location.line): \($0.message)" } ?? []
        #expect(problems.contains { $0.hasPrefix("8: found fence security-group without fence_security_groups") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("12: found fence 'teleport'") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("14: found an ARN, expected the secret's name") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("15: found") && $0.contains("expected true or false for promote_on_failover") }, "\(problems)")
    }
}
