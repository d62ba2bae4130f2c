import DRCore
import Foundation

/// Amazon ECS over JSON 1.1: the service calls of a warm-standby scale-up.
/// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html
public struct ECSClient: Sendable {
    public struct Service: Decodable, Sendable, Equatable {
        public struct Deployment: Decodable, Sendable, Equatable {
            public let id: String?
            /// PRIMARY, ACTIVE or INACTIVE.
            public let status: String?
            public let desiredCount: Int?
            public let runningCount: Int?
            /// IN_PROGRESS, COMPLETED, FAILED.
            public let rolloutState: String?
        }

        public let serviceName: String
        public let status: String?
        public let desiredCount: Int
        public let runningCount: Int
        public let pendingCount: Int?
        public let deployments: [Deployment]?
    }

    let client: AWSClient
    let service = AWSServiceDescriptor.ecs

    public init(client: AWSClient) { self.client = client }

    /// nil when the service is not in the cluster (ECS reports it under `failures`, not as an error).
    /// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServices.html
    public func describeService(cluster: String, service name: String, region: String) async throws -> Service? {
        try await describeServices(cluster: cluster, services: [name], region: region)[name]
    }

    /// The named services of one cluster that exist, keyed as asked (name or ARN); at most 10 per call.
    public func describeServices(cluster: String, services names: [String], region: String) async throws -> [String: Service] {
        struct Input: Encodable {
            let cluster: String
            let services: [String]
        }
        struct Output: Decodable { let services: [Service]? }
        let request = try JSONProtocol.request(operation: "DescribeServices", service: service, input: Input(cluster: cluster, services: names))
        let response = try await client.send(request, service: service, region: region)
        let found = try AWSResponseDecoding.json(Output.self, from: response, operation: "DescribeServices").services ?? []
        var byName: [String: Service] = [:]
        for name in names {
            byName[name] = found.first { $0.serviceName == name || name.hasSuffix("/" + $0.serviceName) }
        }
        return byName
    }

    /// Setting the same desired count twice is harmless, so this call is idempotent as it is.
    public func updateService(cluster: String, service name: String, desiredCount: Int, region: String) async throws -> Service {
        struct Input: Encodable {
            let cluster: String
            let service: String
            let desiredCount: Int
        }
        struct Output: Decodable { let service: Service }
        let request = try JSONProtocol.request(operation: "UpdateService", service: service,
                                               input: Input(cluster: cluster, service: name, desiredCount: desiredCount))
        let response = try await client.send(request, service: service, region: region)
        return try AWSResponseDecoding.json(Output.self, from: response, operation: "UpdateService").service
    }
}
