import DRCore
import Foundation

/// `aws.rds.delete-snapshot`: deletes a manual snapshot. Observe: already gone → done. A snapshot
/// still being created is waited for first (RDS refuses to delete it mid-way).
struct RDSDeleteSnapshotAction: RunbookAction {
    let rds: RDSClient
    let name = "aws.rds.delete-snapshot"
    let summary = "Deletes a manual RDS snapshot (waiting first for one still being created) and waits until it is gone."
    let permissions: [ActionPermission] = [
        .aws("rds:DescribeDBSnapshots"),
        .aws("rds:DeleteDBSnapshot"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [RDSActions.region, .init("snapshot", .string, required: true)]

    func describe(_ arguments: [String: RunValue]) -> String {
        "DeleteDBSnapshot \(arguments.argumentText("snapshot")) in \(arguments.argumentText("region")) (already gone: nothing to do), "
            + "then DescribeDBSnapshots until it is gone"
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let arguments = RDSArguments(invocation)
        let region = try arguments.string("region"), snapshot = try arguments.string("snapshot")
        return try await RDSActions.mapped {
            try await rds.findDBSnapshot(region: region, snapshot: snapshot, deadline: invocation.deadline) == nil
                ? Self.outputs(snapshot) : nil
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let arguments = RDSArguments(invocation)
        let region = try arguments.string("region"), snapshot = try arguments.string("snapshot")
        return try await RDSActions.mapped {
            guard let current = try await rds.findDBSnapshot(region: region, snapshot: snapshot, deadline: invocation.deadline),
                  current.status != "deleting" else { return [:] }
            if ["creating", "copying", "pending"].contains(current.status) {
                _ = try? await RDSActions.waiters(rds, invocation).snapshotAvailable(region: region, snapshot: snapshot, until: invocation.deadline)
            }
            do {
                try await rds.deleteDBSnapshot(region: region, snapshot: snapshot, deadline: invocation.deadline)
            } catch let error as AWSServiceError where error.code.hasPrefix("DBSnapshotNotFound") {}
            return [:]
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = RDSArguments(invocation)
        let region = try arguments.string("region"), snapshot = try arguments.string("snapshot")
        return try await RDSActions.mapped {
            try await RDSActions.waiters(rds, invocation).snapshotDeleted(region: region, snapshot: snapshot, until: invocation.deadline)
            return Self.outputs(snapshot)
        }
    }

    static func outputs(_ snapshot: String) -> [String: RunValue] {
        ["snapshot": .string(snapshot), "deleted": .bool(true)]
    }
}
