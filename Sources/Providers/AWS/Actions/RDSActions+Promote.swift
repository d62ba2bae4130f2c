import DRCore
import Foundation

/// `aws.rds.promote-read-replica`: turns DR replicas into standalone writable instances.
/// On a retry or resume it observes first: when every instance is already standalone and
/// available, nothing is called — this is what makes a resumed failover issue exactly one
/// PromoteReadReplica per replica. On a first try it calls at once: RDS refuses to promote an
/// instance that is busy or no replica (InvalidDBInstanceState), and only then does it look.
struct RDSPromoteReadReplicaAction: RunbookAction {
    let rds: RDSClient
    let name = "aws.rds.promote-read-replica"
    let summary = "Promotes RDS read replicas to standalone writable instances and waits until each is available and detached from its source."
    let permissions: [ActionPermission] = [
        .aws("rds:PromoteReadReplica"),
        .aws("rds:DescribeDBInstances"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        RDSActions.region, .init("instances", .list, required: true), .init("backup_retention_days", .int),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        let retention = arguments["backup_retention_days"].map { " with BackupRetentionPeriod=\($0)" } ?? ""
        return "PromoteReadReplica\(retention) on each replica of \(arguments.argumentText("instances")) in \(arguments.argumentText("region")) "
            + "not yet promoted (at most \(RDSActions.fanOutLimit) at a time), then DescribeDBInstances until each is available "
            + "and detached from its source"
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        if invocation.isFirstTry { return nil }
        let arguments = RDSArguments(invocation)
        let region = try arguments.string("region"), identifiers = try arguments.strings("instances")
        return try await RDSActions.mapped {
            let rds = self.rds
            let found = try await RDSActions.fanOut(identifiers) { id in
                try await rds.findDBInstance(region: region, identifier: id, deadline: invocation.deadline)
            }
            let instances = identifiers.compactMap { found[$0] ?? nil }
            guard instances.count == identifiers.count,
                  instances.allSatisfy({ $0.status == "available" && $0.isStandalone }) else { return nil }
            return Self.outputs(instances)
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let arguments = RDSArguments(invocation)
        let region = try arguments.string("region"), identifiers = try arguments.strings("instances")
        let retention = try arguments.int("backup_retention_days")
        let rds = self.rds, waiters = RDSActions.waiters(rds, invocation), deadline = invocation.deadline
        let firstTry = invocation.isFirstTry
        return try await RDSActions.mapped {
            let requested = try await RDSActions.fanOut(identifiers) { id -> Bool in
                if firstTry {
                    do {
                        _ = try await rds.promoteReadReplica(region: region, identifier: id, backupRetentionPeriod: retention,
                                                             deadline: deadline)
                        return true
                    } catch where RDSActions.isInvalidState(error) || RDSActions.isNotFound(error) {
                        // Busy, already promoted, or missing: look before anything else.
                    }
                }
                guard var instance = try await rds.findDBInstance(region: region, identifier: id, deadline: deadline) else {
                    throw ActionError(.permanent, "\(id) does not exist in \(region): nothing to promote")
                }
                // A replica that is busy (e.g. a promotion already under way after a crash) is
                // waited for rather than called again; then it is either detached or promotable.
                if instance.status != "available" && instance.status != "stopped" {
                    instance = try await waiters.instanceSettled(region: region, identifier: id, until: deadline)
                }
                guard !instance.isStandalone else { return false }
                do {
                    _ = try await rds.promoteReadReplica(region: region, identifier: id, backupRetentionPeriod: retention,
                                                         deadline: deadline)
                    return true
                } catch where RDSActions.isInvalidState(error) {
                    // Promotion already under way (another attempt's call landed): verify waits for it.
                    return false
                }
            }
            return ["requested": .list(identifiers.filter { requested[$0] == true }.map(RunValue.string))]
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = RDSArguments(invocation)
        let region = try arguments.string("region"), identifiers = try arguments.strings("instances")
        let waiters = RDSActions.waiters(rds, invocation), deadline = invocation.deadline
        return try await RDSActions.mapped {
            let promoted = try await RDSActions.fanOut(identifiers) { id in
                try await waiters.instancePromoted(region: region, identifier: id, until: deadline)
            }
            return Self.outputs(identifiers.compactMap { promoted[$0] })
        }
    }

    static func outputs(_ instances: [DBInstance]) -> [String: RunValue] {
        var endpoints: [String: RunValue] = [:]
        for instance in instances { endpoints[instance.identifier] = instance.endpoint.map(RunValue.string) ?? .null }
        return ["endpoints": .map(endpoints), "promoted": .list(instances.map { .string($0.identifier) })]
    }
}

/// `aws.rds.replica-lag` (read-only): the newest CloudWatch `ReplicaLag` datapoint, in seconds.
struct RDSReplicaLagAction: RunbookAction {
    let lag: RDSReplicaLag
    let name = "aws.rds.replica-lag"
    let summary = "Reads the newest CloudWatch ReplicaLag datapoint of an RDS replica, in seconds."
    let permissions: [ActionPermission] = [.aws("cloudwatch:GetMetricData")]
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [RDSActions.region, .init("instance", .string, required: true)]

    func describe(_ arguments: [String: RunValue]) -> String {
        "read CloudWatch GetMetricData AWS/RDS ReplicaLag of \(arguments.argumentText("instance")) in \(arguments.argumentText("region"))"
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = RDSArguments(invocation)
        let region = try arguments.string("region"), instance = try arguments.string("instance")
        return try await RDSActions.mapped {
            let now = invocation.services.clock.now()
            guard let point = try await lag.latest(region: region, instance: instance, now: now,
                                                                            deadline: invocation.deadline) else {
                throw ActionError(.permanent, "no ReplicaLag datapoint for \(instance) in \(region) in the last 10 minutes "
                                  + "(CloudWatch AWS/RDS ReplicaLag): the replica's lag is unknown")
            }
            return ["lag_seconds": .double(point.seconds),
                    "measured_at": .string(ISO8601DateFormatter().string(from: point.timestamp))]
        }
    }
}
