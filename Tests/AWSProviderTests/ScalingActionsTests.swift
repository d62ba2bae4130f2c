import Foundation
import Testing
@testable import AWSProvider
@testable import DRCore

extension TestBedSerial {
    /// Warm-standby scale-up in us-west-2 against the test bed, through the fault proxy.
    @Suite
    struct ScalingActionsTests {
        static let region = "us-west-2"

        static func action(_ name: String, _ client: AWSClient) throws -> any RunbookAction {
            try #require(ScalingActions.all(client: client).first { $0.name == name })
        }

        /// Setup calls the product never makes, sent raw through the same pipeline (and recorded).
        static func json(_ client: AWSClient, _ service: AWSServiceDescriptor, _ operation: String, _ body: [String: Any]) async throws -> [String: Any] {
            let request = AWSRequest(operation: operation, method: "POST", path: "/",
                                     headers: ["Content-Type": "application/x-amz-json-\(service.jsonVersion ?? "1.1")",
                                               "X-Amz-Target": "\(service.targetPrefix ?? "").\(operation)"],
                                     body: Array(try JSONSerialization.data(withJSONObject: body)))
            let response = try await client.send(request, service: service, region: region)
            return try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
        }

        static func restJSON(_ client: AWSClient, _ operation: String, path: String, _ body: [String: Any]) async throws {
            let request = AWSRequest(operation: operation, method: "POST", path: path, headers: ["Content-Type": "application/json"],
                                     body: Array(try JSONSerialization.data(withJSONObject: body)))
            _ = try await client.send(request, service: .eks, region: region)
        }

        static func query(_ client: AWSClient, _ action: String, _ parameters: QueryParameters) async throws {
            _ = try await client.send(QueryProtocol.request(action: action, version: AWSServiceDescriptor.autoScaling.apiVersion, parameters: parameters),
                                      service: .autoScaling, region: region)
        }

        static func makeNodegroup(_ client: AWSClient) async throws -> (cluster: String, nodegroup: String) {
            let cluster = TestBed.uniqueName("drctl-eks"), nodegroup = TestBed.uniqueName("standby")
            try await restJSON(client, "CreateCluster", path: "/clusters", [
                "name": cluster, "roleArn": "arn:aws:iam::123456789012:role/eks", "resourcesVpcConfig": ["subnetIds": ["subnet-1", "subnet-2"]],
            ])
            try await restJSON(client, "CreateNodegroup", path: "/clusters/\(cluster)/node-groups", [
                "nodegroupName": nodegroup, "subnets": ["subnet-1"], "nodeRole": "arn:aws:iam::123456789012:role/node",
                "scalingConfig": ["minSize": 1, "maxSize": 2, "desiredSize": 1],
            ])
            return (cluster, nodegroup)
        }

        static func nodegroupArguments(_ group: (cluster: String, nodegroup: String)) -> [String: RunValue] {
            ["region": .string(region), "cluster": .string(group.cluster), "nodegroup": .string(group.nodegroup),
             "min": .int(2), "max": .int(6), "desired": .int(4)]
        }

        @Test func eksNodegroupIsScaledUpAndASecondRunIsObserved() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let (client, recorder) = bed.recordingClient(throughProxy: true)
            let group = try await Self.makeNodegroup(client)
            let action = try Self.action("aws.eks.scale-nodegroup", client)
            let run = try await StepRun.run(action, Self.nodegroupArguments(group))
            #expect(!run.observedDone)
            #expect(run.outputs["desired"] == .int(4))
            let described = try await EKSClient(client: client).describeNodegroup(cluster: group.cluster, nodegroup: group.nodegroup, region: Self.region)
            #expect(described.scalingConfig == .init(minSize: 2, maxSize: 6, desiredSize: 4))
            #expect(described.status == "ACTIVE")

            try await bed.setFaults([])
            let again = try await StepRun.run(action, Self.nodegroupArguments(group))
            #expect(again.observedDone)
            #expect(try await bed.requestCount(service: "eks", operation: "UpdateNodegroupConfig") == 0)
            let operations = try expectRequestsMatchBotocore(recorder)
            #expect(operations.isSuperset(of: ["CreateCluster", "CreateNodegroup", "DescribeNodegroup", "UpdateNodegroupConfig"]))
        }

        @Test func eksScaleUpSucceedsThroughThrottling() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let (client, _) = bed.recordingClient(throughProxy: true)
            let group = try await Self.makeNodegroup(client)
            try await bed.setFaults([["service": "eks", "operation": "UpdateNodegroupConfig", "fault": "throttle", "times": 2]])
            let run = try await StepRun.run(try Self.action("aws.eks.scale-nodegroup", client), Self.nodegroupArguments(group))
            #expect(run.outputs["desired"] == .int(4))
            #expect(try await bed.requestCount(service: "eks", operation: "UpdateNodegroupConfig") == 3)
            try await bed.setFaults([])
        }

        @Test func autoScalingGroupReachesItsInServiceCapacity() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let (client, recorder) = bed.recordingClient(throughProxy: true)
            let name = TestBed.uniqueName("drctl-asg")
            var launch = QueryParameters()
            launch.set("LaunchConfigurationName", name)
            launch.set("ImageId", "ami-12c6146b")
            launch.set("InstanceType", "t3.micro")
            try await Self.query(client, "CreateLaunchConfiguration", launch)
            var create = QueryParameters()
            create.set("AutoScalingGroupName", name)
            create.set("LaunchConfigurationName", name)
            create.set("MinSize", 0)
            create.set("MaxSize", 2)
            create.set("DesiredCapacity", 0)
            create.setList("AvailabilityZones", ["us-west-2a"])
            try await Self.query(client, "CreateAutoScalingGroup", create)

            let action = try Self.action("aws.autoscaling.set-capacity", client)
            let bounded = try await StepRun.run(action, ["region": .string(Self.region), "group": .string(name),
                                                         "min": .int(1), "max": .int(6), "desired": .int(3)])
            #expect((bounded.outputs["in_service"]?.intValue ?? 0) >= 3)
            #expect(try await bed.requestCount(service: "autoscaling", operation: "UpdateAutoScalingGroup") == 1)

            let desiredOnly = try await StepRun.run(action, ["region": .string(Self.region), "group": .string(name), "desired": .int(4)])
            #expect((desiredOnly.outputs["in_service"]?.intValue ?? 0) >= 4)
            #expect(try await bed.requestCount(service: "autoscaling", operation: "SetDesiredCapacity") == 1)
            let group = try #require(try await AutoScalingClient(client: client).describeAutoScalingGroup(name, region: Self.region))
            #expect(group.desiredCapacity == 4)
            #expect(group.minSize == 1 && group.maxSize == 6)
            let operations = try expectRequestsMatchBotocore(recorder)
            #expect(operations.isSuperset(of: ["DescribeAutoScalingGroups", "UpdateAutoScalingGroup", "SetDesiredCapacity"]))
        }

        @Test func ecsServiceIsScaledToItsRunningCount() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let (client, recorder) = bed.recordingClient(throughProxy: true)
            let cluster = TestBed.uniqueName("drctl-ecs"), service = TestBed.uniqueName("web")
            _ = try await Self.json(client, .ecs, "CreateCluster", ["clusterName": cluster])
            _ = try await Self.json(client, .ecs, "RegisterTaskDefinition", [
                "family": service, "containerDefinitions": [["name": "web", "image": "nginx", "memory": 128]],
            ])
            _ = try await Self.json(client, .ecs, "CreateService", [
                "cluster": cluster, "serviceName": service, "taskDefinition": service, "desiredCount": 0,
            ])
            let action = try Self.action("aws.ecs.scale-service", client)
            let arguments: [String: RunValue] = ["region": .string(Self.region), "cluster": .string(cluster), "service": .string(service),
                                                 "desired": .int(3)]
            let run = try await StepRun.run(action, arguments)
            #expect(!run.observedDone)
            #expect(run.outputs["running"] == .int(3))
            try await bed.setFaults([])
            let again = try await StepRun.run(action, arguments)
            #expect(again.observedDone)
            #expect(try await bed.requestCount(service: "ecs", operation: "UpdateService") == 0)
            let operations = try expectRequestsMatchBotocore(recorder)
            #expect(operations.isSuperset(of: ["DescribeServices", "UpdateService"]))
        }

        @Test func everyScaleActionDescribesTheCallsItWouldMake() throws {
            let bed = try TestBed.require()
            let actions = ScalingActions.all(client: bed.client(throughProxy: false))
            let describe = { (name: String, arguments: [String: RunValue]) -> String in
                actions.first { $0.name == name }?.describe(arguments) ?? ""
            }
            #expect(describe("aws.eks.scale-nodegroup", [:]).contains("UpdateNodegroupConfig"))
            #expect(describe("aws.autoscaling.set-capacity", ["desired": .int(2)]).contains("SetDesiredCapacity"))
            #expect(describe("aws.autoscaling.set-capacity", ["min": .int(1), "desired": .int(2)]).contains("UpdateAutoScalingGroup"))
            #expect(describe("aws.ecs.scale-service", [:]).contains("UpdateService"))
            #expect(actions.allSatisfy { $0.parameters.contains { $0.name == "region" && $0.required } })
            // The preflight's reads change nothing and say what they read.
            let checks = ["aws.eks.check-nodegroup": "DescribeNodegroup", "aws.autoscaling.check-group": "DescribeAutoScalingGroups",
                          "aws.ecs.check-service": "DescribeServices"]
            #expect(actions.filter { !$0.isMutating }.map(\.name).sorted() == checks.keys.sorted())
            for (name, call) in checks { #expect(describe(name, [:]).contains(call)) }
        }
    }
}
