import DRCore
import Foundation

/// Route 53 Application Recovery Controller's data plane (JSON 1.0, `ToggleCustomerAPI`). Its
/// calls go to one of the cluster's five regional endpoints, given by the caller, never through
/// endpoint resolution: that is what keeps a failover out of us-east-1 independent of us-east-1.
/// https://docs.aws.amazon.com/routing-control/latest/APIReference/Welcome.html
public struct RoutingControlClient: Sendable {
    /// One regional endpoint of a cluster, e.g. `https://abc.route53-recovery-cluster.us-west-2.amazonaws.com/v1`.
    public struct ClusterEndpoint: Sendable, Equatable {
        public let url: String
        public let region: String

        public init(url: String, region: String) {
            self.url = url
            self.region = region
        }
    }

    let client: AWSClient
    let service = AWSServiceDescriptor.route53RecoveryCluster
    /// Per endpoint: a dead region must cost seconds, not the default minute, before the next is tried.
    let timeouts: HTTPTimeouts
    let maxAttemptsPerEndpoint: Int

    public init(client: AWSClient, timeouts: HTTPTimeouts = HTTPTimeouts(connect: .seconds(3), total: .seconds(10)),
                maxAttemptsPerEndpoint: Int = 2) {
        self.client = client
        self.timeouts = timeouts
        self.maxAttemptsPerEndpoint = maxAttemptsPerEndpoint
    }

    struct GetInput: Encodable {
        let RoutingControlArn: String
    }

    struct GetOutput: Decodable {
        let RoutingControlArn: String?
        let RoutingControlState: String
        let RoutingControlName: String?
    }

    struct UpdateInput: Encodable {
        let RoutingControlArn: String
        let RoutingControlState: String
    }

    /// "On" or "Off".
    /// https://docs.aws.amazon.com/routing-control/latest/APIReference/API_GetRoutingControlState.html
    public func getRoutingControlState(arn: String, at endpoint: ClusterEndpoint) async throws -> String {
        let request = try JSONProtocol.request(operation: "GetRoutingControlState", service: service, input: GetInput(RoutingControlArn: arn))
        let response = try await pinnedClient(endpoint).send(request, service: service, region: endpoint.region, timeouts: timeouts)
        return try AWSResponseDecoding.json(GetOutput.self, from: response, operation: "GetRoutingControlState").RoutingControlState
    }

    /// Setting a control to the state it already has is a no-op on ARC's side, so retries are safe.
    /// https://docs.aws.amazon.com/routing-control/latest/APIReference/API_UpdateRoutingControlState.html
    public func updateRoutingControlState(arn: String, state: String, at endpoint: ClusterEndpoint) async throws {
        let request = try JSONProtocol.request(operation: "UpdateRoutingControlState", service: service,
                                               input: UpdateInput(RoutingControlArn: arn, RoutingControlState: state))
        _ = try await pinnedClient(endpoint).send(request, service: service, region: endpoint.region, timeouts: timeouts)
    }

    /// The shared pipeline (transport, credentials, signing, retries) aimed at one cluster endpoint.
    func pinnedClient(_ endpoint: ClusterEndpoint) -> AWSClient {
        AWSClient(transport: client.transport, credentials: client.credentials,
                  endpoints: PinnedEndpointResolver(endpoint: AWSEndpoint(url: endpoint.url, signingRegion: endpoint.region,
                                                                          signingName: service.signingName, isConfigured: true)),
                  retry: RetryStrategy(maxAttempts: maxAttemptsPerEndpoint, baseDelay: 0.2, maximumBackoff: 2, quota: client.retry.quota),
                  userAgent: client.userAgent)
    }
}

/// Always the same endpoint, whatever the region asked for.
struct PinnedEndpointResolver: AWSEndpointResolving {
    let endpoint: AWSEndpoint

    func endpoint(for service: AWSServiceDescriptor, region: String) -> AWSEndpoint { endpoint }
}
