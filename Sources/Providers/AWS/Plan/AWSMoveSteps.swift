import DRCore

/// The AWS provider's steps of a generated failover or switchover, as values: capacity up in the
/// target region, per database fence → (switchover: catch-up) → promote, secrets made standalone,
/// S3 backlog evidence, and traffic through ARC routing controls or Route 53 records. The
/// composer (`MoveComposer`) wires traffic and secrets after every provider's promotions.
///
/// Failure policies, decided once the old primary may be fenced (the point of no return):
/// - a fence retries transient errors; an unreachable old region is not a failure (the step
///   reports `degraded`, the run ends degraded); any other fence failure stops the move before
///   anything is promoted (failover: `on_failure: ask`; switchover: `abort`);
/// - capacity, evidence and secrets are not critical: their failure (`on_failure: continue`) must
///   not keep the service from a writable primary, and the run ends degraded with the step named.
struct AWSMoveSteps {
    let plan: DRPlan
    let move: Move

    /// What a fence failure that is not an unreachable region does in a failover: stop the move
    /// before promotion; at a terminal the operator is asked (typed, journaled) whether to proceed
    /// unfenced, and without one `drctl resume RUN --tolerate STEP` is that decision, later.
    static let fenceFailurePolicy = FailurePolicy.ask

    func steps(ids: inout StepIdentifiers) -> [MoveStep] {
        let aws = plan.aws
        let isAWS = move.to.cloud == AWSPlanSectionKind.cloud
        let from = move.from.region, to = move.to.region
        let failover = move.kind == .failover
        var steps: [MoveStep] = []
        func add(_ phase: MovePhase, _ id: String, _ action: String, _ arguments: [String: RunValue], needs: [String] = [],
                 timeout: Double? = nil, estimate: Double? = nil, retry: StepRetryPolicy = StepRetryPolicy(),
                 onFailure: FailurePolicy = .abort, description: String = "") {
            let call = ActionCall(action: action, with: arguments.mapValues { Template(constant: $0) })
            steps.append(MoveStep(RunbookStep(id: id, call: call, needs: needs, timeout: timeout, retry: retry, estimate: estimate,
                                              onFailure: onFailure, description: description), phase: phase))
        }
        let scaling = StepRetryPolicy(attempts: 3, backoff: 5, on: ["transient", "throttling"])
        if isAWS, let standby = aws.standby[to] {
            for group in standby.eksNodegroups {
                add(.capacity, ids.make("scale", group.cluster, group.nodegroup), "aws.eks.scale-nodegroup",
                    ["region": .string(to), "cluster": .string(group.cluster), "nodegroup": .string(group.nodegroup),
                     "min": .int(group.min), "max": .int(group.max), "desired": .int(group.desired)],
                    timeout: 1800, estimate: 600, retry: scaling, onFailure: .continue)
            }
            for group in standby.autoScalingGroups {
                var arguments: [String: RunValue] = ["region": .string(to), "group": .string(group.group), "desired": .int(group.desired)]
                if let min = group.min { arguments["min"] = .int(min) }
                if let max = group.max { arguments["max"] = .int(max) }
                add(.capacity, ids.make("scale", group.group), "aws.autoscaling.set-capacity", arguments,
                    timeout: 1800, estimate: 480, retry: scaling, onFailure: .continue)
            }
            for service in standby.ecsServices {
                add(.capacity, ids.make("scale", service.cluster, service.service), "aws.ecs.scale-service",
                    ["region": .string(to), "cluster": .string(service.cluster), "service": .string(service.service), "desired": .int(service.desired)],
                    timeout: 1800, estimate: 300, retry: scaling, onFailure: .continue)
            }
        }

        let databases = aws.databases.filter { move.from.cloud == AWSPlanSectionKind.cloud && isAWS && $0.primary.region == from && $0.replica(in: to) != nil }
        for database in databases {
            guard let replica = database.replica(in: to) else { continue }
            let fence = ids.make("fence", database.name)
            var fenceArguments: [String: RunValue] = ["region": .string(from), "instance": .string(database.primary.instance),
                                                      "method": .string(database.fence)]
            if let group = database.fenceParameterGroup { fenceArguments["parameter_group"] = .string(group) }
            if !database.fenceSecurityGroups.isEmpty { fenceArguments["security_groups"] = .list(database.fenceSecurityGroups.map(RunValue.string)) }
            // Throttling, 5xx and timeouts retry; an unreachable region succeeds unconfirmed. A
            // switchover promises no data loss: it never proceeds unfenced.
            add(.fence, fence, "aws.rds.fence-instance", fenceArguments, timeout: failover ? 300 : 1200, estimate: failover ? 120 : 300,
                retry: StepRetryPolicy(attempts: 5, backoff: 5, on: ["transient", "throttling", "timeout"]),
                onFailure: failover ? Self.fenceFailurePolicy : .abort,
                description: failover ? "stop writes on the old primary if its region answers (best effort)" : "stop writes on the primary before promoting")
            var promoteNeeds = [fence]
            if !failover {
                let catchUp = ids.make("catch-up", database.name)
                add(.catchUp, catchUp, "aws.rds.wait-replica-caught-up", ["region": .string(to), "instance": .string(replica.instance)],
                    needs: [fence], timeout: 1800, estimate: 120,
                    description: "wait until the replica has replayed everything the fenced primary wrote")
                promoteNeeds = [catchUp]
            }
            add(.promote, ids.make("promote", database.name), "aws.rds.promote-read-replica",
                ["region": .string(to), "instances": .list([.string(replica.instance)]), "backup_retention_days": .int(database.backupRetentionDays)],
                needs: promoteNeeds, timeout: 3600, estimate: 900,
                retry: StepRetryPolicy(attempts: 3, backoff: 10, on: ["transient", "throttling", "timeout"]))
        }

        // After the databases are promoted (the move is then under way): a promoted secret cannot
        // go back to being a replica. A planned switchover leaves secrets as they are.
        for secret in aws.secrets where failover && isAWS && secret.promoteOnFailover && secret.region == from {
            add(.afterPromotion, ids.make("promote-secret", secret.name), "aws.secretsmanager.promote-replica",
                ["region": .string(to), "secret": .string(secret.name)], timeout: 600, estimate: 60,
                retry: StepRetryPolicy(attempts: 3, backoff: 5, on: ["transient", "throttling", "timeout"]), onFailure: .continue,
                description: "make the replica in \(to) a standalone secret, so it can be changed and rotated there")
        }

        for bucket in aws.buckets where isAWS && bucket.destinationRegion == to {
            add(.evidence, ids.make("s3-backlog", bucket.source), "aws.s3.replication-backlog",
                ["region": .string(bucket.sourceRegion), "bucket": .string(bucket.source), "sample": .int(100)],
                timeout: 300, onFailure: .continue,
                description: "objects not yet replicated to \(bucket.destination) (evidence for the data-loss report)")
        }

        let controlsOn = aws.routingControls.filter { isAWS && $0.region == to }
        let trafficRetry = StepRetryPolicy(attempts: 5, backoff: 2, on: ["transient", "throttling", "timeout"])
        if !controlsOn.isEmpty {
            // Data plane: works while us-east-1 (home of the Route 53 control plane) is down.
            for (index, control) in (controlsOn + aws.routingControls.filter { $0.region == from }).enumerated() {
                let endpoints = control.clusterEndpoints.map { RunValue.map(["endpoint": .string($0.endpoint), "region": .string($0.region)]) }
                add(.traffic, ids.make("route", control.region, String(index + 1)), "aws.arc.set-routing-control",
                    ["region": .string(to), "routing_control_arn": .string(control.arn), "state": .string(control.region == to ? "On" : "Off"),
                     "cluster_endpoints": .list(endpoints)],
                    timeout: 600, estimate: 60, retry: trafficRetry)
            }
        } else {
            for record in aws.records {
                guard let values = record.values[move.to.description], !values.isEmpty else { continue }
                var arguments: [String: RunValue] = ["region": .string("us-east-1"), "name": .string(record.name), "type": .string(record.type),
                                                     "ttl": .int(record.ttl), "values": .list(values.map(RunValue.string))]
                // A zone known only by name (Route 53 could not be asked before the run) is looked up by the step.
                if record.zoneId.isEmpty { arguments["zone_name"] = .string(record.zoneName ?? "") } else { arguments["zone_id"] = .string(record.zoneId) }
                add(.traffic, ids.make("dns", record.name), "aws.route53.upsert-record", arguments, timeout: 900, estimate: 120, retry: trafficRetry)
            }
        }
        return steps
    }
}
