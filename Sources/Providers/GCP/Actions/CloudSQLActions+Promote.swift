import DRCore
import Foundation

/// `gcp.sql.promote-replica` and `gcp.sql.switchover`: make a Cloud SQL replica the primary.
/// - promote (`instances.promoteReplica`): the replica becomes a standalone primary and stops
///   replicating — also for a replica of an external primary (on-premises or AWS RDS), which is how
///   a failover to GCP detaches from the old cloud. Data not yet replayed is lost.
/// - switchover (`instances.switchover`, planned, cross-region DR replica): the roles swap without
///   data loss; the old primary becomes the new primary's DR replica.
///   https://cloud.google.com/sql/docs/postgres/replication/cross-region-replicas#switchover
///
/// Observe always comes first: an instance that is already a RUNNABLE primary is done, and nothing
/// is called. Act then looks for this step's own operation (`operations.list` filtered to the
/// instance, of this type, inserted since the step first started): a retry, or a resume after
/// kill -9 while the operation ran, waits for it rather than calling a second time.
struct SQLRoleChangeAction: RunbookAction {
    enum Kind: Sendable {
        case promote, switchover
    }

    let sql: CloudSQLClient
    let kind: Kind

    var name: String { kind == .promote ? "gcp.sql.promote-replica" : "gcp.sql.switchover" }
    var summary: String {
        kind == .promote
            ? "Promotes a Cloud SQL read replica (of a Cloud SQL or an external primary) to a standalone primary and waits until it is a RUNNABLE primary. Outputs: instance, state, connection_name, primary_ip, ip_addresses, operation, requested."
            : "Switches a Cloud SQL primary over to its cross-region DR replica (planned, no data loss) and waits until the replica is a RUNNABLE primary. Outputs: instance, state, connection_name, primary_ip, ip_addresses, replicas, operation, requested."
    }
    var method: String { kind == .promote ? "sqladmin.instances.promoteReplica" : "sqladmin.instances.switchover" }
    var operationType: String { kind == .promote ? "PROMOTE_REPLICA" : "SWITCHOVER" }
    var permissions: [ActionPermission] {
        [kind == .promote ? .gcp("cloudsql.instances.promoteReplica", method: method) : .gcp("cloudsql.instances.failover", method: method, note: "switchover needs the failover permission"),
         .gcp("cloudsql.instances.get", method: "sqladmin.instances.get"),
         .gcp("cloudsql.instances.get", method: "sqladmin.operations.list"),
         .gcp("cloudsql.instances.get", method: "sqladmin.operations.get")]
    }
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        GCPActions.project,
        GCPActions.name("instance", help: "the replica to make primary (for switchover: the primary's DR replica)"),
    ]

    init(sql: CloudSQLClient, kind: Kind) {
        self.sql = sql
        self.kind = kind
    }

    func describe(_ arguments: [String: RunValue]) -> String {
        let call = kind == .promote ? "instances.promoteReplica" : "instances.switchover"
        return "\(call) of \(arguments.argumentText("instance")) in project \(arguments.argumentText("project")) unless it is already a primary "
            + "(or this step's operation already runs), wait for the operation, then instances.get until it is a RUNNABLE primary"
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        return try await GCPActions.mapped(permissions) {
            guard let found = try await sql.instance(project: project, name: instance, deadline: invocation.deadline) else {
                throw ActionError(.permanent, "Cloud SQL instance \(instance) does not exist in project \(project): nothing to promote")
            }
            return found.isStandalone && found.isRunnable ? SQLOutputs.instance(found).merging(["requested": .bool(false)]) { $1 } : nil
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        let clock = invocation.services.clock, deadline = invocation.deadline
        let what = "\(operationType) of \(instance) in \(project)"
        return try await GCPActions.mapped(permissions) {
            if let own = try await sql.ownOperation(project: project, instance: instance, type: operationType,
                                                    since: invocation.firstStartedAt, deadline: deadline) {
                _ = try await sql.wait(named: own.name, project: project, what: what, clock: clock, until: deadline)
                return ["operation": .string(own.name), "requested": .bool(false)]
            }
            guard let found = try await sql.instance(project: project, name: instance, deadline: deadline) else {
                throw ActionError(.permanent, "Cloud SQL instance \(instance) does not exist in project \(project): nothing to promote")
            }
            if found.isStandalone { return ["operation": .null, "requested": .bool(false)] }
            guard found.instanceType == "READ_REPLICA_INSTANCE" else {
                throw ActionError(.permanent, "Cloud SQL instance \(instance) is \(found.instanceType ?? "of no known type"), not a read replica")
            }
            let started = try await call(project: project, instance: instance, deadline: deadline)
            try? await invocation.recordIntentDetail(["operation": .string(started.name ?? "")])
            _ = try await sql.wait(started, project: project, what: what, clock: clock, until: deadline)
            return ["operation": started.name.map(RunValue.string) ?? .null, "requested": .bool(true)]
        }
    }

    private func call(project: String, instance: String, deadline: Date) async throws -> GCPOperation {
        switch kind {
        case .promote: return try await sql.promoteReplica(project: project, instance: instance, deadline: deadline)
        case .switchover: return try await sql.switchover(project: project, instance: instance, deadline: deadline)
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        return try await GCPActions.mapped(permissions) {
            let primary = try await sql.waitInstance(project: project, name: instance, what: "\(instance) in \(project) to be a RUNNABLE primary",
                                                     clock: invocation.services.clock, until: invocation.deadline) { found in
                guard let found else { return .failure("the instance no longer exists") }
                return found.isStandalone && found.isRunnable ? .success : .retry
            }!
            var outputs = SQLOutputs.instance(primary)
            outputs["operation"] = acted["operation"] ?? .null
            outputs["requested"] = acted["requested"] ?? .bool(false)
            return outputs
        }
    }
}

/// Outputs describing an instance, so later steps and checks can reach it.
enum SQLOutputs {
    static func instance(_ instance: SQLInstance) -> [String: RunValue] {
        let addresses = instance.ipAddresses ?? []
        let primary = addresses.first { $0.type == "PRIVATE" }?.ipAddress ?? addresses.first { $0.type == "PRIMARY" }?.ipAddress
            ?? addresses.first?.ipAddress
        return ["instance": .string(instance.name), "state": instance.state.map(RunValue.string) ?? .null,
                "connection_name": instance.connectionName.map(RunValue.string) ?? .null,
                "primary_ip": primary.map(RunValue.string) ?? .null,
                "ip_addresses": .list(addresses.compactMap { $0.ipAddress }.map(RunValue.string)),
                "replicas": .list(instance.replicas.map(RunValue.string))]
    }
}
