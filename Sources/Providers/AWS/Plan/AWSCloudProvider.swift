import DRCore
import Foundation

/// AWS behind drctl's provider seam: RDS, S3, Secrets Manager, Route 53 (and ARC), EKS, Auto
/// Scaling and ECS, through one signed client.
public struct AWSCloudProvider: DRProvider {
    public let client: AWSClient
    private let registered: [any RunbookAction]

    public init(client: AWSClient) {
        self.client = client
        registered = AWSActions.all(client: client)
    }

    public var name: String { AWSPlanSectionKind.cloud }

    public func actions() -> [any RunbookAction] { registered }

    public var summaryRoles: [String: MoveSummaryRole] {
        ["aws.rds.fence-instance": .fence, "aws.rds.promote-read-replica": .promotion,
         "aws.route53.upsert-record": .traffic, "aws.arc.set-routing-control": .traffic]
    }

    /// Record names → hosted-zone ids (Route 53's control plane, us-east-1), only when the move
    /// cuts over through DNS: routing controls need no zone, and us-east-1 may be the region that
    /// is down — then the DNS step looks its zone up itself when it runs.
    public func prepare(_ move: Move, plan: DRPlan) async throws -> (plan: DRPlan, warnings: [PreflightCheck]) {
        guard move.to.cloud != AWSPlanSectionKind.cloud || plan.aws.cutsOverByDNS(to: move.to.region) else { return (plan, []) }
        let (resolved, unresolved) = try await AWSPreflight.resolveZones(plan, client: client)
        return (resolved, unresolved.map { [PreflightCheck(name: "traffic cutover", ok: false, detail: $0, blocking: false)] } ?? [])
    }

    public func preflight(_ move: Move, plan: DRPlan) async -> PreflightFindings {
        // Nothing of AWS in this move: no call, not even the identity check (no credentials needed).
        guard plan.aws.hasWork(from: move.from, to: move.to) else { return PreflightFindings() }
        return await AWSPreflight(plan: plan, move: move, client: client, actions: registered).run()
    }

    public func moveSteps(_ move: Move, plan: DRPlan, ids: inout StepIdentifiers) throws -> [MoveStep] {
        AWSMoveSteps(plan: plan, move: move).steps(ids: &ids)
    }

    public func drillPart(plan: DRPlan, site: Site, runId: String, ids: inout StepIdentifiers) throws -> DrillPart {
        try AWSDrillPart.make(plan: plan, site: site, runId: runId, ids: &ids)
    }

    public func posture(plan: DRPlan, now: Date) async -> [ProtectedResourcePosture] {
        await AWSRecoveryPointProbe(plan: plan, client: client, backlogAction: registered.first { $0.name == "aws.s3.replication-backlog" }, now: now).measure()
    }
}
