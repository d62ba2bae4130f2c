import AWSProvider
import DRCore

/// Google Cloud's steps of a generated failover or switchover, as values: node pools up in the
/// target site, per database fence → promote (failover) or one switchover (planned), Cloud DNS
/// records, and the Storage Transfer jobs' last run as evidence. `MoveComposer` wires traffic after
/// every provider's promotions.
///
/// A Cloud SQL replica of an external primary (`follows: aws:orders`) is the way a database moves
/// from AWS to Google Cloud: the AWS provider has nothing to do for it (its replica is not in an
/// AWS region), so the fence of the RDS primary is written here, from the `aws:` section's own
/// fence settings, in the fence phase, before the promotion.
struct GCPMoveSteps {
    let plan: DRPlan
    let move: Move

    static let fenceFailurePolicy = FailurePolicy.ask

    func steps(ids: inout StepIdentifiers) throws -> [MoveStep] {
        let gcp = plan.gcp
        let failover = move.kind == .failover
        let project = RunValue.string(gcp.project)
        var steps: [MoveStep] = []
        func add(_ phase: MovePhase, _ id: String, _ action: String, _ arguments: [String: RunValue], needs: [String] = [],
                 timeout: Double, estimate: Double, retry: StepRetryPolicy, onFailure: FailurePolicy = .abort, description: String) {
            // The plan's caller travels with every gcp.* step, so that a resume (from the journaled runbook) calls as the run did.
            let arguments = action.hasPrefix(GCPProvider.name + ".") ? arguments.merging(gcp.caller.arguments) { $1 } : arguments
            let call = ActionCall(action: action, with: arguments.mapValues { Template(constant: $0) })
            steps.append(MoveStep(RunbookStep(id: id, call: call, needs: needs, timeout: timeout, retry: retry, estimate: estimate,
                                              onFailure: onFailure, description: description), phase: phase))
        }
        let retrying = StepRetryPolicy(attempts: 3, backoff: 10, on: ["transient", "throttling", "timeout"])

        for pool in gcp.standby[move.to] ?? [] {
            var arguments: [String: RunValue] = ["project": project, "location": .string(pool.location), "cluster": .string(pool.cluster),
                                                 "pool": .string(pool.pool), "node_count": .int(pool.nodeCount)]
            if let min = pool.min, let max = pool.max { arguments["min_nodes"] = .int(min); arguments["max_nodes"] = .int(max) }
            add(.capacity, ids.make("scale", pool.cluster, pool.pool), "gcp.gke.scale-node-pool", arguments, timeout: 1800, estimate: 600,
                retry: StepRetryPolicy(attempts: 3, backoff: 5, on: ["transient", "throttling"]), onFailure: .continue,
                description: "bring GKE node pool \(pool.cluster)/\(pool.pool) in \(pool.location) to \(pool.nodeCount) nodes")
        }

        let moving = gcp.moving(from: move.from, to: move.to)
        if !failover {
            let external = moving.filter { if case .external = $0.database.primary { true } else { false } }.map(\.database.name)
            guard external.isEmpty else {
                // instances.switchover swaps a Cloud SQL primary with its cross-region DR replica; a
                // replica of an external server has no Cloud SQL primary to swap with.
                throw MoveComposer.Problem(message: """
                    plan \(plan.name): a switchover of \(external.joined(separator: ", ")) is not possible: its primary is outside Google Cloud and \
                    Cloud SQL's switchover only swaps a Cloud SQL primary with its DR replica; use failover (its RPO gate weighs the replica's lag)
                    """)
            }
        }
        for (database, replica) in moving {
            let promoteId = ids.make("promote", database.name)
            guard failover else {
                add(.promote, promoteId, "gcp.sql.switchover", ["project": project, "instance": .string(replica.instance)],
                    timeout: 3600, estimate: 900, retry: retrying,
                    description: "switch \(database.name) over to its DR replica \(replica.instance) in \(replica.site) (no data loss; the old primary becomes its replica)")
                continue
            }
            var needs: [String] = []
            if database.fence == "stop" {
                let fence = ids.make("fence", database.name)
                try addFence(database, id: fence, project: project, add: add)
                needs = [fence]
            }
            add(.promote, promoteId, "gcp.sql.promote-replica", ["project": project, "instance": .string(replica.instance)], needs: needs,
                timeout: 3600, estimate: 600, retry: retrying,
                description: "promote the Cloud SQL replica \(replica.instance) in \(replica.site) to a standalone primary")
        }

        for transfer in gcp.transfers where transfer.site == move.to {
            add(.evidence, ids.make("transfer", String(transfer.job.dropFirst("transferJobs/".count))), "gcp.storage.transfer-status", ["project": project, "job": .string(transfer.job)],
                timeout: 300, estimate: 10, retry: retrying, onFailure: .continue,
                description: "the transfer job's last run into \(transfer.site) (evidence for the data-loss report)")
        }

        for record in gcp.records {
            guard let values = record.values[move.to], !values.isEmpty else { continue }
            add(.traffic, ids.make("dns", record.name), "gcp.dns.set-record",
                ["project": project, "zone": .string(record.zone), "name": .string(record.name), "type": .string(record.type),
                 "ttl": .int(record.ttl), "values": .list(values.map(RunValue.string))],
                timeout: 900, estimate: 120, retry: StepRetryPolicy(attempts: 5, backoff: 2, on: ["transient", "throttling", "timeout"]),
                description: "point \(record.name) at \(move.to)")
        }
        return steps
    }

    /// The old primary's fence: Cloud SQL's stop, or, for an external primary, its own provider's
    /// fence as that provider's section configures it. An unreachable region is not a failure (the
    /// step reports it unconfirmed and the run ends degraded); any other failure stops the move
    /// before the promotion (failover: ask).
    private func addFence(_ database: GCPPlanSection.Database, id: String, project: RunValue,
                          add: (MovePhase, String, String, [String: RunValue], [String], Double, Double, StepRetryPolicy, FailurePolicy, String) -> Void) throws {
        let retry = StepRetryPolicy(attempts: 5, backoff: 5, on: ["transient", "throttling", "timeout"])
        switch database.primary {
        case .cloudSQL(let primary):
            add(.fence, id, "gcp.sql.fence", ["project": project, "instance": .string(primary.instance)], [], 600, 120, retry, Self.fenceFailurePolicy,
                "stop writes on the old Cloud SQL primary \(primary.instance) in \(primary.site) if its region answers (best effort)")
        case .external(let site, let follows):
            guard follows.section == AWSPlanSectionKind.cloud, let source = plan.aws.databases.first(where: { $0.name == follows.database }) else {
                throw MoveComposer.Problem(message: """
                    plan \(plan.name): gcp database \(database.name) follows \(follows), which the plan's \(follows.section) section does not have; \
                    expected a database of that name there (its fence stops the old primary)
                    """)
            }
            guard source.primary.region == site.region, site.cloud == AWSPlanSectionKind.cloud else {
                throw MoveComposer.Problem(message: """
                    plan \(plan.name): gcp database \(database.name) says its primary is in \(site), but \(follows)'s primary is in \(source.primary.region)
                    """)
            }
            var arguments: [String: RunValue] = ["region": .string(source.primary.region), "instance": .string(source.primary.instance),
                                                 "method": .string(source.fence)]
            if let group = source.fenceParameterGroup { arguments["parameter_group"] = .string(group) }
            if !source.fenceSecurityGroups.isEmpty { arguments["security_groups"] = .list(source.fenceSecurityGroups.map(RunValue.string)) }
            add(.fence, id, "aws.rds.fence-instance", arguments, [], 300, 120, retry, Self.fenceFailurePolicy,
                "stop writes on the old RDS primary \(source.primary.instance) in \(source.primary.region) if its region answers (best effort)")
        }
    }
}
