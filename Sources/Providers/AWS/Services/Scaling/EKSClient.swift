import DRCore
import Foundation

/// Amazon EKS over REST-JSON: the managed node group calls of a warm-standby scale-up.
/// https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateNodegroupConfig.html
public struct EKSClient: Sendable {
    public struct ScalingConfig: Codable, Sendable, Equatable {
        public var minSize: Int
        public var maxSize: Int
        public var desiredSize: Int

        public init(minSize: Int, maxSize: Int, desiredSize: Int) {
            self.minSize = minSize
            self.maxSize = maxSize
            self.desiredSize = desiredSize
        }
    }

    public struct Nodegroup: Decodable, Sendable, Equatable {
        public let nodegroupName: String
        public let clusterName: String?
        /// CREATING, ACTIVE, UPDATING, DELETING, CREATE_FAILED, DELETE_FAILED, DEGRADED.
        public let status: String
        public let scalingConfig: ScalingConfig?
    }

    public struct Update: Decodable, Sendable, Equatable {
        public let id: String
        public let status: String
        public let type: String?
    }

    let client: AWSClient
    let service = AWSServiceDescriptor.eks

    public init(client: AWSClient) { self.client = client }

    static func nodegroupPath(cluster: String, nodegroup: String) -> String {
        "/clusters/\(encodePathLabel(cluster, greedy: false))/node-groups/\(encodePathLabel(nodegroup, greedy: false))"
    }

    /// https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeNodegroup.html
    public func describeNodegroup(cluster: String, nodegroup: String, region: String) async throws -> Nodegroup {
        struct Output: Decodable { let nodegroup: Nodegroup }
        let request = try RESTJSONProtocol.request(operation: "DescribeNodegroup", method: "GET",
                                                   path: Self.nodegroupPath(cluster: cluster, nodegroup: nodegroup), input: EmptyInput?.none)
        let response = try await client.send(request, service: service, region: region)
        return try AWSResponseDecoding.json(Output.self, from: response, operation: "DescribeNodegroup").nodegroup
    }

    /// `clientRequestToken` makes a retried or resumed call the same update.
    public func updateNodegroupConfig(cluster: String, nodegroup: String, scaling: ScalingConfig, clientRequestToken: String,
                                      region: String) async throws -> Update {
        struct Input: Encodable {
            let scalingConfig: ScalingConfig
            let clientRequestToken: String
        }
        struct Output: Decodable { let update: Update }
        let request = try RESTJSONProtocol.request(operation: "UpdateNodegroupConfig", method: "POST",
                                                   path: Self.nodegroupPath(cluster: cluster, nodegroup: nodegroup) + "/update-config",
                                                   input: Input(scalingConfig: scaling, clientRequestToken: clientRequestToken))
        let response = try await client.send(request, service: service, region: region)
        return try AWSResponseDecoding.json(Output.self, from: response, operation: "UpdateNodegroupConfig").update
    }
}
