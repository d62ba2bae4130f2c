import DRCore
import Foundation

/// `gcp.sql.replica-lag` (read-only): the newest Cloud Monitoring `replica_lag` sample of a Cloud
/// SQL replica, in seconds, and when it was taken. No sample in the last ten minutes fails the step
/// (the lag is unknown — never reported as 0). Steps reading replicas of one project at the same
/// time share one `timeSeries.list` call.
struct SQLReplicaLagAction: RunbookAction {
    let lag: CloudSQLReplicaLag
    let name = "gcp.sql.replica-lag"
    let summary = "Reads the newest Cloud Monitoring replica_lag sample of a Cloud SQL replica (coalesced per project). Outputs: lag_seconds, measured_at (RFC 3339), instance; no sample in 10 minutes fails the step (unknown, never 0)."
    let permissions: [ActionPermission] = [.gcp("monitoring.timeSeries.list", method: "monitoring.projects.timeSeries.list")]
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [GCPActions.project, GCPActions.name("instance", help: "the replica")]

    func describe(_ arguments: [String: RunValue]) -> String {
        "Monitoring timeSeries.list of \(CloudSQLReplicaLag.metric) for \(arguments.argumentText("project")):\(arguments.argumentText("instance")) over the last 10 minutes"
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        return try await GCPActions.mapped(permissions) {
            guard let point = try await lag.latest(project: project, instance: instance, deadline: invocation.deadline) else {
                throw ActionError(.permanent, "no replica_lag sample for \(project):\(instance) in the last 10 minutes "
                                  + "(Cloud Monitoring \(CloudSQLReplicaLag.metric)): the replica's lag is unknown")
            }
            return ["lag_seconds": .double(point.seconds), "measured_at": .string(GCPActions.timestamp(point.timestamp)),
                    "instance": .string(instance)]
        }
    }
}
