import DRCore
import Foundation

/// AWS Secrets Manager over JSON 1.1: what a failover needs to know about a replicated secret,
/// and the promotion of a replica to a standalone secret. Only metadata is read (DescribeSecret);
/// a secret's value never passes through drctl.
/// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html
public struct SecretsManagerClient: Sendable {
    /// DescribeSecret's answer, reduced to replication.
    public struct SecretDescription: Decodable, Sendable, Equatable {
        public struct Replica: Decodable, Sendable, Equatable {
            public let region: String
            /// InSync, Failed or InProgress.
            public let status: String?
            public let statusMessage: String?

            enum CodingKeys: String, CodingKey {
                case region = "Region", status = "Status", statusMessage = "StatusMessage"
            }
        }

        public let arn: String?
        /// Set on a replica: the region of the secret it copies.
        public let primaryRegion: String?
        /// Set on a primary: its replicas and how their replication stands.
        public let replicationStatus: [Replica]?
        /// Epoch seconds: set while the secret is scheduled for deletion.
        public let deletedDate: Double?
        /// Whether Secrets Manager rotates this secret (a replica reports its primary's setting).
        public let rotationEnabled: Bool?

        enum CodingKeys: String, CodingKey {
            case arn = "ARN", primaryRegion = "PrimaryRegion", replicationStatus = "ReplicationStatus",
                 deletedDate = "DeletedDate", rotationEnabled = "RotationEnabled"
        }

        /// Not a replica here: DescribeSecret names a standalone (or primary) secret's own region as
        /// its PrimaryRegion, or none.
        public func isStandalone(in region: String) -> Bool {
            primaryRegion == nil || primaryRegion == region
        }
    }

    let client: AWSClient
    let service = AWSServiceDescriptor.secretsManager

    public init(client: AWSClient) { self.client = client }

    /// The input of the operations that name one secret.
    private struct SecretIdInput: Encodable {
        let secretId: String
        enum CodingKeys: String, CodingKey { case secretId = "SecretId" }
    }

    /// The secret's metadata in `region`, or nil when Secrets Manager says ResourceNotFoundException.
    public func describeSecret(id: String, region: String, deadline: Date? = nil) async throws -> SecretDescription? {
        let request = try JSONProtocol.request(operation: "DescribeSecret", service: service, input: SecretIdInput(secretId: id))
        do {
            let response = try await client.send(request, service: service, region: region, deadline: deadline)
            return try AWSResponseDecoding.json(SecretDescription.self, from: response, operation: "DescribeSecret")
        } catch let error as AWSServiceError where error.category == .notFound {
            return nil
        }
    }

    /// Promotes the replica of `id` in `region` to a standalone secret there (StopReplicationToReplica,
    /// called in the replica's own region, so it works while the primary's region is down).
    /// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_StopReplicationToReplica.html
    public func stopReplicationToReplica(id: String, region: String, deadline: Date? = nil) async throws {
        let request = try JSONProtocol.request(operation: "StopReplicationToReplica", service: service, input: SecretIdInput(secretId: id))
        _ = try await client.send(request, service: service, region: region, deadline: deadline)
    }
}
