import DRCore
import Foundation

/// `aws.rds.wait-replica-caught-up` (switchover): waits until the replica reports a ReplicaLag of
/// at most `max_lag_seconds` (default 0) in a datapoint stamped at or after the moment this step
/// first started. The step `needs` the fence, so that moment comes after the fence was confirmed:
/// the "no data loss" promise rests on a measurement of the fenced primary only. CloudWatch stamps
/// a datapoint with the start of its one-minute period and aggregates the whole minute, so a
/// datapoint of the minute in which the fence landed also holds readings from before it (when the
/// primary still took writes) and never counts; RDS publishes ReplicaLag every minute, so this
/// waits one to two minutes on AWS.
struct RDSWaitReplicaCaughtUpAction: RunbookAction {
    let lag: RDSReplicaLag
    let name = "aws.rds.wait-replica-caught-up"
    let summary = "Waits until an RDS replica reports a ReplicaLag at or below a limit in a datapoint taken after the step started (after the fence, in a switchover)."
    let permissions: [ActionPermission] = [.aws("cloudwatch:GetMetricData")]
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [RDSActions.region, .init("instance", .string, required: true),
                                                 .init("max_lag_seconds", .number)]

    func describe(_ arguments: [String: RunValue]) -> String {
        "poll CloudWatch AWS/RDS ReplicaLag of \(arguments.argumentText("instance")) in \(arguments.argumentText("region")) until a datapoint "
            + "stamped after this step started (after the fence) shows lag ≤ \(arguments.argumentText("max_lag_seconds", "0"))s"
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = RDSArguments(invocation)
        let region = try arguments.string("region"), instance = try arguments.string("instance")
        let limit = invocation.arguments["max_lag_seconds"]?.secondsValue ?? 0
        // Kept across retries and resumes: the first start is the earliest moment after the fence.
        let since = invocation.firstStartedAt
        // RDS publishes ReplicaLag every minute: poll no faster than every 5 s.
        let waiter = Waiter<RDSReplicaLag.Datapoint?>(what: "\(instance) to catch up", minimumDelay: 5, maximumDelay: 30,
                                                      clock: invocation.services.clock) { point in
            guard let point, point.timestamp >= since else { return .retry }
            return point.seconds <= limit ? .success : .retry
        }
        let point = try await AWSStepErrors.run {
            try await waiter.wait(until: invocation.deadline) {
                try await lag.latest(region: region, instance: instance, now: invocation.services.clock.now(), deadline: invocation.deadline)
            }
        }
        return ["lag_seconds": .double(point?.seconds ?? 0),
                "measured_at": .string(point.map { ISO8601DateFormatter().string(from: $0.timestamp) } ?? "")]
    }
}
