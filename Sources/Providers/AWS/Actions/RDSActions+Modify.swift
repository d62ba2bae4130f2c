import DRCore
import Foundation

/// `aws.rds.modify-instance`: parameter group and/or backup retention.
struct RDSModifyInstanceAction: RunbookAction {
    let rds: RDSClient
    let name = "aws.rds.modify-instance"
    let summary = "Changes an RDS instance's parameter group and/or backup retention, applied immediately, and waits until the change holds."
    let permissions: [ActionPermission] = [
        .aws("rds:DescribeDBInstances"),
        .aws("rds:ModifyDBInstance"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        RDSActions.region, .init("instance", .string, required: true), .init("parameter_group", .string),
        .init("backup_retention_days", .int), .init("apply_immediately", .bool),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        var changes: [String] = []
        if let group = arguments["parameter_group"] { changes.append("DBParameterGroupName=\(group)") }
        if let days = arguments["backup_retention_days"] { changes.append("BackupRetentionPeriod=\(days)") }
        changes.append("ApplyImmediately=\(arguments.argumentText("apply_immediately", "true"))")
        return "ModifyDBInstance \(arguments.argumentText("instance")) in \(arguments.argumentText("region")) (\(changes.joined(separator: ", "))) "
            + "unless already so, then DescribeDBInstances until available with the change"
    }

    private struct Change {
        let region: String
        let instance: String
        let parameterGroup: String?
        let retention: Int?
        let applyImmediately: Bool

        func holds(_ instance: DBInstance) -> Bool {
            (parameterGroup.map { group in instance.parameterGroups.contains { $0.name == group } } ?? true)
                && (retention.map { $0 == instance.backupRetentionPeriod } ?? true)
        }
    }

    private func change(_ invocation: ActionInvocation) throws -> Change {
        let arguments = RDSArguments(invocation)
        let change = Change(region: try arguments.string("region"), instance: try arguments.string("instance"),
                            parameterGroup: try arguments.optionalString("parameter_group"),
                            retention: try arguments.int("backup_retention_days"),
                            applyImmediately: try arguments.bool("apply_immediately") ?? true)
        guard change.parameterGroup != nil || change.retention != nil else {
            throw ActionError(.permanent, "modify-instance needs 'parameter_group' or 'backup_retention_days'")
        }
        return change
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let change = try change(invocation)
        return try await RDSActions.mapped {
            guard let found = try await rds.findDBInstance(region: change.region, identifier: change.instance, deadline: invocation.deadline),
                  found.status == "available", change.holds(found) else { return nil }
            return RDSActions.instanceOutputs(found)
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let change = try change(invocation)
        return try await RDSActions.mapped {
            // A busy instance answers InvalidDBInstanceState: wait for it to settle first.
            let current = try await RDSActions.waiters(rds, invocation).instanceSettled(region: change.region, identifier: change.instance,
                                                                                       until: invocation.deadline)
            if change.holds(current) { return [:] }
            _ = try await rds.modifyDBInstance(region: change.region, identifier: change.instance,
                                               .init(parameterGroup: change.parameterGroup, backupRetentionPeriod: change.retention,
                                                     applyImmediately: change.applyImmediately), deadline: invocation.deadline)
            return [:]
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let change = try change(invocation)
        return try await RDSActions.mapped {
            // Without ApplyImmediately the change waits for the maintenance window: only the call is verified.
            guard change.applyImmediately else {
                return RDSActions.instanceOutputs(try await RDSActions.waiters(rds, invocation).instanceSettled(
                    region: change.region, identifier: change.instance, until: invocation.deadline))
            }
            let found = try await RDSActions.waiters(rds, invocation).instance(
                region: change.region, identifier: change.instance, what: "\(change.instance) in \(change.region) to be modified",
                until: invocation.deadline) { found in
                RDSWaiters.verdict(found, identifier: change.instance) { $0.status == "available" && change.holds($0) }
            }!
            return RDSActions.instanceOutputs(found)
        }
    }
}
