import DRCore
import Foundation

/// Warm-standby scale-up: EKS managed node groups, EC2 Auto Scaling groups, ECS services. Each
/// waits until the capacity is really there, not just requested.
public enum ScalingActions {
    public static func all(client: AWSClient) -> [any RunbookAction] {
        let eks = EKSClient(client: client), autoScaling = AutoScalingClient(client: client), ecs = ECSClient(client: client)
        return [ScaleNodegroupAction(eks: eks), SetCapacityAction(autoScaling: autoScaling), ScaleServiceAction(ecs: ecs),
                CheckNodegroupAction(eks: eks), CheckAutoScalingGroupAction(autoScaling: autoScaling), CheckServiceAction(ecs: ecs)]
    }

    /// EKS limits `clientRequestToken` to 64 characters; longer run-step tokens are hashed, still stable.
    static func clientToken(_ token: String) -> String {
        token.count <= 64 ? token : "drctl-" + String(Hex.encode(SHA256Digest.hash(Array(token.utf8))).prefix(58))
    }
}

/// `aws.eks.scale-nodegroup`: UpdateNodegroupConfig, then DescribeNodegroup until ACTIVE at the new size.
struct ScaleNodegroupAction: RunbookAction {
    let eks: EKSClient
    let name = "aws.eks.scale-nodegroup"
    let summary = "Sets an EKS managed node group's size and waits until it is ACTIVE at the new size."
    let permissions: [ActionPermission] = [
        .aws("eks:DescribeNodegroup"),
        .aws("eks:UpdateNodegroupConfig"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        .init("region", .string, required: true), .init("cluster", .string, required: true), .init("nodegroup", .string, required: true),
        .init("min", .int, required: true), .init("max", .int, required: true), .init("desired", .int, required: true),
    ]

    static func target(_ arguments: StepArguments) throws -> EKSClient.ScalingConfig {
        let config = EKSClient.ScalingConfig(minSize: try arguments.int("min"), maxSize: try arguments.int("max"),
                                             desiredSize: try arguments.int("desired"))
        guard config.minSize >= 0, config.minSize <= config.desiredSize, config.desiredSize <= config.maxSize, config.maxSize >= 1 else {
            throw ActionError(.permanent, "node group sizes must satisfy 0 ≤ min ≤ desired ≤ max and max ≥ 1")
        }
        return config
    }

    func describe(_ arguments: [String: RunValue]) -> String {
        "EKS UpdateNodegroupConfig \(arguments.argumentText("cluster"))/\(arguments.argumentText("nodegroup"))"
            + " in \(arguments.argumentText("region")) → min \(arguments.argumentText("min")),"
            + " max \(arguments.argumentText("max")), desired \(arguments.argumentText("desired")),"
            + " then DescribeNodegroup until ACTIVE at that size"
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let arguments = StepArguments(invocation.arguments)
        let target = try Self.target(arguments)
        let (region, cluster, nodegroup) = (try arguments.string("region"), try arguments.string("cluster"), try arguments.string("nodegroup"))
        return try await AWSStepErrors.run {
            let current = try await eks.describeNodegroup(cluster: cluster, nodegroup: nodegroup, region: region)
            return current.status == "ACTIVE" && current.scalingConfig == target ? ["desired": .int(target.desiredSize)] : nil
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let arguments = StepArguments(invocation.arguments)
        let target = try Self.target(arguments)
        let (region, cluster, nodegroup) = (try arguments.string("region"), try arguments.string("cluster"), try arguments.string("nodegroup"))
        let update = try await AWSStepErrors.run(acting: true) {
            try await eks.updateNodegroupConfig(cluster: cluster, nodegroup: nodegroup, scaling: target,
                                                clientRequestToken: ScalingActions.clientToken(invocation.idempotencyToken), region: region)
        }
        return ["update_id": .string(update.id)]
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = StepArguments(invocation.arguments)
        let target = try Self.target(arguments)
        let (region, cluster, nodegroup) = (try arguments.string("region"), try arguments.string("cluster"), try arguments.string("nodegroup"))
        let eks = self.eks
        let waiter = Waiter<EKSClient.Nodegroup>(what: "node group \(cluster)/\(nodegroup) ACTIVE at desired \(target.desiredSize)",
                                                 minimumDelay: 2, maximumDelay: 30, clock: invocation.services.clock) { group in
            if ["CREATE_FAILED", "DELETE_FAILED", "DELETING", "DEGRADED"].contains(group.status) {
                return .failure("node group is \(group.status)")
            }
            return group.status == "ACTIVE" && group.scalingConfig == target ? .success : .retry
        }
        return try await AWSStepErrors.run {
            let group = try await waiter.wait(until: invocation.deadline) {
                try await eks.describeNodegroup(cluster: cluster, nodegroup: nodegroup, region: region)
            }
            return ["desired": .int(group.scalingConfig?.desiredSize ?? target.desiredSize)]
        }
    }
}

/// `aws.autoscaling.set-capacity`: UpdateAutoScalingGroup (bounds given) or SetDesiredCapacity,
/// then DescribeAutoScalingGroups until enough instances are InService and Healthy.
struct SetCapacityAction: RunbookAction {
    let autoScaling: AutoScalingClient
    let name = "aws.autoscaling.set-capacity"
    let summary = "Sets an EC2 Auto Scaling group's desired capacity (and bounds) and waits until enough instances are InService and healthy."
    let permissions: [ActionPermission] = [
        .aws("autoscaling:DescribeAutoScalingGroups"),
        .aws("autoscaling:UpdateAutoScalingGroup", note: "with min or max"),
        .aws("autoscaling:SetDesiredCapacity", note: "without min and max"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        .init("region", .string, required: true), .init("group", .string, required: true),
        .init("min", .int), .init("max", .int), .init("desired", .int, required: true),
    ]

    struct Target {
        let region: String, group: String
        let min: Int?, max: Int?, desired: Int

        init(_ values: [String: RunValue]) throws {
            let arguments = StepArguments(values)
            region = try arguments.string("region")
            group = try arguments.string("group")
            min = try arguments.optionalInt("min")
            max = try arguments.optionalInt("max")
            desired = try arguments.int("desired")
            if let min, min > desired { throw ActionError(.permanent, "min (\(min)) is above desired (\(desired))") }
            if let max, max < desired { throw ActionError(.permanent, "max (\(max)) is below desired (\(desired))") }
        }

        var changesBounds: Bool { min != nil || max != nil }

        func isConfigured(_ group: AutoScalingClient.Group) -> Bool {
            group.desiredCapacity == desired && (min == nil || group.minSize == min) && (max == nil || group.maxSize == max)
        }
    }

    func describe(_ arguments: [String: RunValue]) -> String {
        let group = arguments.argumentText("group"), region = arguments.argumentText("region")
        let desired = arguments.argumentText("desired")
        let call = arguments["min"] != nil || arguments["max"] != nil
            ? "Auto Scaling UpdateAutoScalingGroup \(group) in \(region) → MinSize \(arguments.argumentText("min", "unchanged")),"
                + " MaxSize \(arguments.argumentText("max", "unchanged")), DesiredCapacity \(desired)"
            : "Auto Scaling SetDesiredCapacity \(group) in \(region) → \(desired)"
        return call + ", then DescribeAutoScalingGroups until \(desired) instances are InService"
    }

    func describeGroup(_ target: Target) async throws -> AutoScalingClient.Group {
        guard let group = try await autoScaling.describeAutoScalingGroup(target.group, region: target.region) else {
            throw ActionError(.permanent, "Auto Scaling group \(target.group) not found in \(target.region)")
        }
        return group
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let target = try Target(invocation.arguments)
        return try await AWSStepErrors.run {
            let group = try await describeGroup(target)
            return target.isConfigured(group) && group.inService >= target.desired ? ["in_service": .int(group.inService)] : nil
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let target = try Target(invocation.arguments)
        try await AWSStepErrors.run(acting: true) {
            if target.changesBounds {
                try await autoScaling.updateAutoScalingGroup(target.group, minSize: target.min, maxSize: target.max,
                                                             desiredCapacity: target.desired, region: target.region)
            } else {
                try await autoScaling.setDesiredCapacity(target.group, desiredCapacity: target.desired, region: target.region)
            }
        }
        return [:]
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let target = try Target(invocation.arguments)
        let waiter = Waiter<AutoScalingClient.Group>(what: "\(target.desired) instances InService in \(target.group)", minimumDelay: 2,
                                                     maximumDelay: 30, clock: invocation.services.clock) { group in
            // Someone (a scaling policy, another operator) set it lower meanwhile: waiting would never end.
            guard group.desiredCapacity >= target.desired else {
                return .failure("desired capacity is \(group.desiredCapacity), below \(target.desired)")
            }
            return group.inService >= target.desired ? .success : .retry
        }
        return try await AWSStepErrors.run {
            let group = try await waiter.wait(until: invocation.deadline) { try await describeGroup(target) }
            return ["in_service": .int(group.inService)]
        }
    }
}
