import Foundation
import Testing
@testable import AWSProvider
@testable import DRCore

extension TestBedSerial {
    /// The preflight's reads of the standby capacity, against the test bed through the fault proxy:
    /// a resource that does not exist is a problem (not an error), and the reads of one region (or
    /// ECS cluster) go out together.
    @Suite
    struct ScalingPreflightTests {
        typealias Scaling = ScalingActionsTests

        static func problems(_ outputs: [String: RunValue]) -> [String] {
            guard case .list(let items)? = outputs["problems"] else { return [] }
            return items.map(\.description)
        }

        @Test func aMisspelledNodeGroupIsAProblemAndAnExistingOneIsReadAsItIs() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let (client, recorder) = bed.recordingClient(throughProxy: true)
            let group = try await Scaling.makeNodegroup(client)
            let check = try Scaling.action("aws.eks.check-nodegroup", client)
            #expect(!check.isMutating)
            let found = try await StepRun.run(check, ["region": .string(Scaling.region), "cluster": .string(group.cluster),
                                                      "nodegroup": .string(group.nodegroup)])
            #expect(found.outputs["exists"] == .bool(true))
            #expect(Self.problems(found.outputs).isEmpty)
            #expect(found.outputs["current"]?.stringValue?.contains("desired 1") == true, "\(found.outputs)")
            let missing = try await StepRun.run(check, ["region": .string(Scaling.region), "cluster": .string(group.cluster),
                                                        "nodegroup": .string(group.nodegroup + "x")])
            #expect(missing.outputs["exists"] == .bool(false))
            #expect(Self.problems(missing.outputs) == ["EKS node group \(group.cluster)/\(group.nodegroup)x does not exist in us-west-2 (ResourceNotFoundException)"])
            #expect(try await bed.requestCount(service: "eks", operation: "UpdateNodegroupConfig") == 0)
            _ = try expectRequestsMatchBotocore(recorder)
        }

        @Test func autoScalingGroupsOfARegionAreReadInOneCall() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let (client, recorder) = bed.recordingClient(throughProxy: true)
            let name = TestBed.uniqueName("drctl-asg")
            var launch = QueryParameters()
            launch.set("LaunchConfigurationName", name)
            launch.set("ImageId", "ami-12c6146b")
            launch.set("InstanceType", "t3.micro")
            try await Scaling.query(client, "CreateLaunchConfiguration", launch)
            var create = QueryParameters()
            create.set("AutoScalingGroupName", name)
            create.set("LaunchConfigurationName", name)
            create.set("MinSize", 0)
            create.set("MaxSize", 2)
            create.set("DesiredCapacity", 0)
            create.setList("AvailabilityZones", ["us-west-2a"])
            try await Scaling.query(client, "CreateAutoScalingGroup", create)
            try await bed.setFaults([])   // counts from here

            let check = try Scaling.action("aws.autoscaling.check-group", client)
            async let found = StepRun.run(check, ["region": .string(Scaling.region), "group": .string(name)])
            async let missing = StepRun.run(check, ["region": .string(Scaling.region), "group": .string(name + "-typo")])
            let (present, absent) = try await (found, missing)
            #expect(present.outputs["exists"] == .bool(true))
            #expect(Self.problems(present.outputs).isEmpty)
            #expect(Self.problems(absent.outputs) == ["Auto Scaling group \(name)-typo does not exist in us-west-2"])
            #expect(try await bed.requestCount(service: "autoscaling", operation: "DescribeAutoScalingGroups") == 1)
            _ = try expectRequestsMatchBotocore(recorder)
        }

        @Test func ecsServicesOfAClusterAreReadInOneCall() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let (client, recorder) = bed.recordingClient(throughProxy: true)
            let cluster = TestBed.uniqueName("drctl-ecs"), service = TestBed.uniqueName("web")
            _ = try await Scaling.json(client, .ecs, "CreateCluster", ["clusterName": cluster])
            _ = try await Scaling.json(client, .ecs, "RegisterTaskDefinition", [
                "family": service, "containerDefinitions": [["name": "web", "image": "nginx", "memory": 128]],
            ])
            _ = try await Scaling.json(client, .ecs, "CreateService", [
                "cluster": cluster, "serviceName": service, "taskDefinition": service, "desiredCount": 1,
            ])
            try await bed.setFaults([])   // counts from here

            let check = try Scaling.action("aws.ecs.check-service", client)
            async let found = StepRun.run(check, ["region": .string(Scaling.region), "cluster": .string(cluster), "service": .string(service)])
            async let missing = StepRun.run(check, ["region": .string(Scaling.region), "cluster": .string(cluster),
                                                    "service": .string(service + "-typo")])
            let (present, absent) = try await (found, missing)
            #expect(present.outputs["exists"] == .bool(true))
            #expect(Self.problems(present.outputs).isEmpty)
            #expect(Self.problems(absent.outputs) == ["ECS service \(service)-typo does not exist in cluster \(cluster) (us-west-2)"])
            #expect(try await bed.requestCount(service: "ecs", operation: "DescribeServices") == 1)
            _ = try expectRequestsMatchBotocore(recorder)
        }
    }
}
