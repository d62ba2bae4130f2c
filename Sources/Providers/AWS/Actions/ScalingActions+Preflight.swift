import DRCore
import Foundation

/// The preflight's reads of the standby capacity a move will scale: a node group, Auto Scaling
/// group or ECS service that does not exist (a typo in the plan) is a `problem` found before
/// anything changes, not a scale step that fails after the old primary was fenced. Read-only;
/// a missing resource is reported, never thrown; a read that fails throws.
/// Each reports `exists`, `current` (what it runs now, for the operator) and `problems`.
enum ScalingPreflight {
    static func outputs(exists: Bool, current: String, problems: [String]) -> [String: RunValue] {
        ["exists": .bool(exists), "current": .string(current), "problems": .list(problems.map(RunValue.string))]
    }
}

/// `aws.eks.check-nodegroup`: DescribeNodegroup (EKS has no call that reads several at once).
struct CheckNodegroupAction: RunbookAction {
    let eks: EKSClient
    let name = "aws.eks.check-nodegroup"
    let summary = "Reads whether an EKS node group exists and its current size, without changing anything."
    let permissions: [ActionPermission] = [.aws("eks:DescribeNodegroup")]
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [
        .init("region", .string, required: true), .init("cluster", .string, required: true), .init("nodegroup", .string, required: true),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        "EKS DescribeNodegroup \(arguments.argumentText("cluster"))/\(arguments.argumentText("nodegroup")) in \(arguments.argumentText("region"))"
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = StepArguments(invocation.arguments)
        let (region, cluster, nodegroup) = (try arguments.string("region"), try arguments.string("cluster"), try arguments.string("nodegroup"))
        return try await AWSStepErrors.run {
            let group: EKSClient.Nodegroup
            do {
                group = try await eks.describeNodegroup(cluster: cluster, nodegroup: nodegroup, region: region)
            } catch let error as AWSServiceError where error.category == .notFound {
                return ScalingPreflight.outputs(exists: false, current: "", problems: [
                    "EKS node group \(cluster)/\(nodegroup) does not exist in \(region) (\(error.code))",
                ])
            }
            let sizes = group.scalingConfig.map { "min \($0.minSize), max \($0.maxSize), desired \($0.desiredSize)" } ?? "no scaling config"
            // UpdateNodegroupConfig is refused unless the group is ACTIVE (or becomes so while the step waits).
            let problems = ["CREATE_FAILED", "DELETE_FAILED", "DELETING", "DEGRADED"].contains(group.status)
                ? ["EKS node group \(cluster)/\(nodegroup) in \(region) is \(group.status): it cannot be scaled"] : []
            return ScalingPreflight.outputs(exists: true, current: "\(group.status), \(sizes)", problems: problems)
        }
    }
}

/// `aws.autoscaling.check-group`: the groups of a region are read together (one
/// DescribeAutoScalingGroups for up to 50 names).
struct CheckAutoScalingGroupAction: RunbookAction {
    let reads: ReadCoalescer<String, String, AutoScalingClient.Group>
    let name = "aws.autoscaling.check-group"
    let summary = "Reads whether an EC2 Auto Scaling group exists and its current capacity, without changing anything."
    let permissions: [ActionPermission] = [.aws("autoscaling:DescribeAutoScalingGroups")]
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [.init("region", .string, required: true), .init("group", .string, required: true)]

    init(autoScaling: AutoScalingClient) {
        // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingGroups.html (AutoScalingGroupNames: up to 50)
        reads = ReadCoalescer(maxBatch: 50) { region, names, _ in try await autoScaling.describeAutoScalingGroups(names, region: region) }
    }

    func describe(_ arguments: [String: RunValue]) -> String {
        "Auto Scaling DescribeAutoScalingGroups \(arguments.argumentText("group")) in \(arguments.argumentText("region"))"
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = StepArguments(invocation.arguments)
        let (region, name) = (try arguments.string("region"), try arguments.string("group"))
        return try await AWSStepErrors.run {
            guard let group = try await reads.read(name, in: region, deadline: invocation.deadline) else {
                return ScalingPreflight.outputs(exists: false, current: "", problems: ["Auto Scaling group \(name) does not exist in \(region)"])
            }
            return ScalingPreflight.outputs(exists: true, current: "min \(group.minSize), max \(group.maxSize), desired \(group.desiredCapacity), "
                                                + "\(group.inService) in service", problems: [])
        }
    }
}

/// `aws.ecs.check-service`: the services of a cluster are read together (one DescribeServices for up to 10).
struct CheckServiceAction: RunbookAction {
    struct Cluster: Hashable, Sendable {
        let region: String
        let name: String
    }

    let reads: ReadCoalescer<Cluster, String, ECSClient.Service>
    let name = "aws.ecs.check-service"
    let summary = "Reads whether an ECS service exists and its current counts, without changing anything."
    let permissions: [ActionPermission] = [.aws("ecs:DescribeServices")]
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [
        .init("region", .string, required: true), .init("cluster", .string, required: true), .init("service", .string, required: true),
    ]

    init(ecs: ECSClient) {
        // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServices.html (services: up to 10)
        reads = ReadCoalescer(maxBatch: 10) { cluster, services, _ in
            try await ecs.describeServices(cluster: cluster.name, services: services, region: cluster.region)
        }
    }

    func describe(_ arguments: [String: RunValue]) -> String {
        "ECS DescribeServices \(arguments.argumentText("cluster"))/\(arguments.argumentText("service")) in \(arguments.argumentText("region"))"
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = StepArguments(invocation.arguments)
        let cluster = Cluster(region: try arguments.string("region"), name: try arguments.string("cluster"))
        let service = try arguments.string("service")
        return try await AWSStepErrors.run {
            let found: ECSClient.Service?
            do {
                found = try await reads.read(service, in: cluster, deadline: invocation.deadline)
            } catch let error as AWSServiceError where error.code.hasSuffix("ClusterNotFoundException") {
                found = nil
            }
            guard let found, found.status != "INACTIVE" else {
                return ScalingPreflight.outputs(exists: false, current: "", problems: [
                    "ECS service \(service) does not exist in cluster \(cluster.name) (\(cluster.region))",
                ])
            }
            return ScalingPreflight.outputs(exists: true, current: "\(found.status ?? "?"), desired \(found.desiredCount), "
                                                + "\(found.runningCount) running", problems: [])
        }
    }
}
