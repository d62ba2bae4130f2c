import DRCore
import Foundation

/// `aws.ecs.scale-service`: UpdateService desiredCount, then DescribeServices until runningCount
/// reaches it. (moto sets runningCount to the new desiredCount inside UpdateService, so the test
/// bed passes this check at once; real ECS takes the time to place and start tasks.)
struct ScaleServiceAction: RunbookAction {
    let ecs: ECSClient
    let name = "aws.ecs.scale-service"
    let summary = "Sets an ECS service's desired count and waits until that many tasks run."
    let permissions: [ActionPermission] = [
        .aws("ecs:DescribeServices"),
        .aws("ecs:UpdateService"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        .init("region", .string, required: true), .init("cluster", .string, required: true),
        .init("service", .string, required: true), .init("desired", .int, required: true),
    ]

    struct Target {
        let region: String, cluster: String, service: String, desired: Int

        init(_ values: [String: RunValue]) throws {
            let arguments = StepArguments(values)
            region = try arguments.string("region")
            cluster = try arguments.string("cluster")
            service = try arguments.string("service")
            desired = try arguments.int("desired")
            guard desired >= 0 else { throw ActionError(.permanent, "argument 'desired' must not be negative") }
        }
    }

    func describe(_ arguments: [String: RunValue]) -> String {
        "ECS UpdateService \(arguments.argumentText("cluster"))/\(arguments.argumentText("service"))"
            + " in \(arguments.argumentText("region")) → desiredCount \(arguments.argumentText("desired")),"
            + " then DescribeServices until runningCount reaches it"
    }

    func describeService(_ target: Target) async throws -> ECSClient.Service {
        guard let service = try await ecs.describeService(cluster: target.cluster, service: target.service, region: target.region) else {
            throw ActionError(.permanent, "ECS service \(target.service) not found in cluster \(target.cluster) (\(target.region))")
        }
        return service
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let target = try Target(invocation.arguments)
        return try await AWSStepErrors.run {
            let service = try await describeService(target)
            return service.desiredCount == target.desired && service.runningCount >= target.desired
                ? ["running": .int(service.runningCount)] : nil
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let target = try Target(invocation.arguments)
        _ = try await AWSStepErrors.run(acting: true) {
            try await ecs.updateService(cluster: target.cluster, service: target.service, desiredCount: target.desired, region: target.region)
        }
        return [:]
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let target = try Target(invocation.arguments)
        let waiter = Waiter<ECSClient.Service>(what: "\(target.desired) running tasks of \(target.service)", minimumDelay: 2,
                                               maximumDelay: 30, clock: invocation.services.clock) { service in
            if service.deployments?.first(where: { $0.status == "PRIMARY" })?.rolloutState == "FAILED" {
                return .failure("the service's deployment failed")
            }
            guard service.desiredCount >= target.desired else {
                return .failure("desiredCount is \(service.desiredCount), below \(target.desired)")
            }
            return service.runningCount >= target.desired ? .success : .retry
        }
        return try await AWSStepErrors.run {
            let service = try await waiter.wait(until: invocation.deadline) { try await describeService(target) }
            return ["running": .int(service.runningCount)]
        }
    }
}
