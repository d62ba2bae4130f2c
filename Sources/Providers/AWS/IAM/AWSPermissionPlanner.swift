import DRCore

/// The AWS permissions a purpose needs on a plan, step by step: the steps of the generated
/// runbooks (the moves' as composed, the drill's from `DrillRunbookGenerator`), the reads drctl
/// makes around them (the move's preflight and zone lookup, `drill cleanup`, `status`), and for
/// each the permissions its action declares, scoped by `AWSPermissionScope`.
///
/// Drill resources are named after the run (`drill-<plan>-<db>-<short run id>`): drills are
/// composed for `PermissionRequest.placeholderRunId`, which becomes `*` in names and tag values.
struct AWSPermissionPlanner {
    static let placeholderRunId = PermissionRequest.placeholderRunId

    let request: PermissionRequest
    let actions: [String: any RunbookAction]
    /// The provider's client (the preflight's reads are listed by the preflight itself; nothing is called).
    let client: AWSClient

    var plan: DRPlan { request.plan }

    static func wildcard(_ text: String) -> String {
        if text == placeholderRunId { return "run-*" }
        return text.replacingOccurrences(of: DrillComposer.shortId(placeholderRunId), with: "*")
    }

    func needs() throws -> [PermissionNeed] {
        let arn = AWSARN(partition: AWSARN.partition(of: plan.primarySite.region), account: request.account)
        let scope = AWSPermissionScope(arn: arn, wildcard: Self.wildcard)
        var needs: [PermissionNeed] = []
        func add(_ step: String, _ actionName: String, _ arguments: [String: RunValue], only permissions: [ActionPermission]? = nil) {
            guard let declared = permissions ?? actions[actionName]?.permissions else { return }
            for permission in declared where permission.kind == .aws {
                guard let scoped = scope.scope(action: actionName, permission: permission, arguments: arguments) else { continue }
                needs.append(PermissionNeed(provider: AWSPlanSectionKind.cloud, purpose: request.purpose, step: step, action: actionName,
                                            permission: permission.name, resources: scoped.resources, conditions: scoped.conditions,
                                            note: permission.note))
            }
        }
        func addSteps(_ steps: [RunbookStep], tagsByName: [String: RunValue] = [:]) {
            for step in steps {
                for call in [step.call] + (step.compensate.map { [$0] } ?? []) where actions[call.action] != nil {
                    var arguments = call.with.compactMapValues(\.constantValue)
                    // A deletion is allowed on what carries the tags its creation set.
                    if arguments["tags"] == nil, let name = (arguments["snapshot"] ?? arguments["instance"])?.stringValue {
                        arguments["tags"] = tagsByName[name]
                    }
                    add(step.id, call.action, arguments)
                }
            }
        }

        switch request.purpose {
        case .failover, .switchover:
            for (move, runbook) in request.moves where plan.aws.hasWork(from: move.from, to: move.to) {
                let preflight = AWSPreflight(plan: plan, move: move, client: client, actions: [])
                for call in preflight.readCalls() { add("preflight", call.action, call.arguments) }
                add("preflight", "identity", ["region": .string(move.to.region)], only: [.aws("sts:GetCallerIdentity")])
                add("preflight", "permissions", [:], only: [.aws("iam:SimulatePrincipalPolicy")])
                if plan.aws.records.contains(where: { $0.zoneId.isEmpty }) && plan.aws.cutsOverByDNS(to: move.to.region) {
                    add("preflight", "hosted zones by name", [:], only: [.aws("route53:ListHostedZones")])
                }
                addSteps(runbook.steps)
            }
        case .drill:
            for (_, runbook) in request.drills {
                var tagsByName: [String: RunValue] = [:]
                for step in runbook.steps where step.call.action == "aws.rds.create-snapshot" {
                    let arguments = step.call.with.compactMapValues(\.constantValue)
                    if let name = arguments["snapshot"]?.stringValue { tagsByName[name] = arguments["tags"] }
                }
                addSteps(runbook.steps, tagsByName: tagsByName)
            }
            // `drill cleanup` lists instances and manual snapshots (with their tags) in every region of
            // the plan; it deletes only what the teardown steps above may delete.
            let cleanupRegions = plan.aws.regions.union(plan.sites.filter { $0.cloud == AWSPlanSectionKind.cloud }.map(\.region)).sorted()
            for region in cleanupRegions {
                add("drill cleanup", "drill cleanup", ["region": .string(region)],
                    only: [.aws("rds:DescribeDBInstances"), .aws("rds:DescribeDBSnapshots")])
            }
        case .status:
            // As `AWSRecoveryPointProbe` reads: the DR site's replica lags, snapshot copies and S3 backlogs.
            guard let drRegion = plan.drSites.first(where: { $0.cloud == AWSPlanSectionKind.cloud })?.region else { break }
            for database in plan.aws.databases {
                if database.replica(in: drRegion) != nil {
                    add("status", "replica lag", ["region": .string(drRegion)], only: [.aws("cloudwatch:GetMetricData")])
                }
                add("status", "snapshot copies", ["region": .string(drRegion)], only: [.aws("rds:DescribeDBSnapshots")])
            }
            for bucket in plan.aws.buckets where bucket.destinationRegion == drRegion {
                add("status", "aws.s3.replication-backlog", ["region": .string(bucket.sourceRegion), "bucket": .string(bucket.source)])
            }
        }
        return needs
    }
}

extension AWSCloudProvider {
    public func permissionNeeds(_ request: PermissionRequest) throws -> [PermissionNeed] {
        try AWSPermissionPlanner(request: request, actions: Dictionary(actions().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }),
                                 client: client).needs()
    }
}
