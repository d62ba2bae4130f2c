import DRCore
import Foundation

/// EC2 Auto Scaling over the Query protocol.
/// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_Operations.html
public struct AutoScalingClient: Sendable {
    public struct Group: Sendable, Equatable {
        public struct Instance: Sendable, Equatable {
            public let id: String
            /// Pending, InService, Terminating, … https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-lifecycle.html
            public let lifecycleState: String
            public let healthStatus: String
        }

        public let name: String
        public let minSize: Int
        public let maxSize: Int
        public let desiredCapacity: Int
        public let instances: [Instance]

        public var inService: Int {
            instances.filter { $0.lifecycleState == "InService" && $0.healthStatus == "Healthy" }.count
        }

        init(xml: XMLNode) {
            name = xml.string("AutoScalingGroupName") ?? ""
            minSize = xml.string("MinSize").flatMap(Int.init) ?? 0
            maxSize = xml.string("MaxSize").flatMap(Int.init) ?? 0
            desiredCapacity = xml.string("DesiredCapacity").flatMap(Int.init) ?? 0
            instances = xml.list("Instances").map {
                Instance(id: $0.string("InstanceId") ?? "", lifecycleState: $0.string("LifecycleState") ?? "",
                         healthStatus: $0.string("HealthStatus") ?? "")
            }
        }
    }

    let client: AWSClient
    let service = AWSServiceDescriptor.autoScaling

    public init(client: AWSClient) { self.client = client }

    /// nil when there is no such group.
    /// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingGroups.html
    public func describeAutoScalingGroup(_ name: String, region: String) async throws -> Group? {
        try await describeAutoScalingGroups([name], region: region)[name]
    }

    /// The named groups that exist, by name, in one call per page (a preflight asks for all of a region's at once).
    public func describeAutoScalingGroups(_ names: [String], region: String) async throws -> [String: Group] {
        let groups: [Group] = try await collectPages { token in
            var parameters = QueryParameters()
            parameters.setList("AutoScalingGroupNames", names)
            parameters.set("NextToken", token)
            let request = QueryProtocol.request(action: "DescribeAutoScalingGroups", version: service.apiVersion, parameters: parameters)
            let response = try await client.send(request, service: service, region: region)
            let result = try QueryProtocol.result(of: response, action: "DescribeAutoScalingGroups")
            return (result.list("AutoScalingGroups").map(Group.init(xml:)), result.string("NextToken"))
        }
        return Dictionary(groups.filter { names.contains($0.name) }.map { ($0.name, $0) }) { first, _ in first }
    }

    /// Bounds and capacity in one call (desired must lie within the new bounds).
    /// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_UpdateAutoScalingGroup.html
    public func updateAutoScalingGroup(_ name: String, minSize: Int?, maxSize: Int?, desiredCapacity: Int?, region: String) async throws {
        var parameters = QueryParameters()
        parameters.set("AutoScalingGroupName", name)
        parameters.set("MinSize", minSize)
        parameters.set("MaxSize", maxSize)
        parameters.set("DesiredCapacity", desiredCapacity)
        let request = QueryProtocol.request(action: "UpdateAutoScalingGroup", version: service.apiVersion, parameters: parameters)
        _ = try await client.send(request, service: service, region: region)
    }

    /// Without honouring the cooldown: a failover does not wait for the last scaling activity.
    /// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SetDesiredCapacity.html
    public func setDesiredCapacity(_ name: String, desiredCapacity: Int, region: String) async throws {
        var parameters = QueryParameters()
        parameters.set("AutoScalingGroupName", name)
        parameters.set("DesiredCapacity", desiredCapacity)
        parameters.set("HonorCooldown", false)
        let request = QueryProtocol.request(action: "SetDesiredCapacity", version: service.apiVersion, parameters: parameters)
        _ = try await client.send(request, service: service, region: region)
    }
}
