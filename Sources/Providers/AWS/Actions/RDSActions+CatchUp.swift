import DRCore
import Foundation

/// `aws.rds.wait-replica-caught-up` (switchover): waits until the replica reports a ReplicaLag of
/// at most `max_lag_seconds` (default 0) in a datapoint whose one-minute period ends after this
/// step started — that is, measured (at least partly) after the primary was fenced. CloudWatch
/// stamps a datapoint with the start of its period, so a reading from the minute of the fence
/// counts; RDS publishes ReplicaLag every minute, so this waits one to two minutes on AWS.
struct RDSWaitReplicaCaughtUpAction: RunbookAction {
    let lag: RDSReplicaLag
    let name = "aws.rds.wait-replica-caught-up"
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [RDSActions.region, .init("instance", .string, required: true),
                                                 .init("max_lag_seconds", .number)]

    func describe(_ arguments: [String: RunValue]) -> String {
        "poll CloudWatch AWS/RDS ReplicaLag of \(arguments.argumentText("instance")) in \(arguments.argumentText("region")) until a datapoint "
            + "newer than this step shows lag ≤ \(arguments.argumentText("max_lag_seconds", "0"))s"
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = RDSArguments(invocation)
        let region = try arguments.string("region"), instance = try arguments.string("instance")
        let limit = invocation.arguments["max_lag_seconds"]?.secondsValue ?? 0
        let since = invocation.firstStartedAt
        // RDS publishes ReplicaLag every minute: poll no faster than every 5 s.
        let waiter = Waiter<RDSReplicaLag.Datapoint?>(what: "\(instance) to catch up", minimumDelay: 5, maximumDelay: 30,
                                                      clock: invocation.services.clock) { point in
            guard let point, point.timestamp.addingTimeInterval(60) > since else { return .retry }
            return point.seconds <= limit ? .success : .retry
        }
        let point = try await RDSActions.mapped {
            try await waiter.wait(until: invocation.deadline) {
                try await lag.latest(region: region, instance: instance, now: invocation.services.clock.now(), deadline: invocation.deadline)
            }
        }
        return ["lag_seconds": .double(point?.seconds ?? 0),
                "measured_at": .string(point.map { ISO8601DateFormatter().string(from: $0.timestamp) } ?? "")]
    }
}
