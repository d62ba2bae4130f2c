import DRCore
import Foundation

/// Whether a KMS key exists (and is usable) in a region: encrypted snapshots and replicas can only
/// be copied into a region where the destination key exists. KMS keys are regional.
/// https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html
public struct RDSKMSKeyCheck: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) { self.client = client }

    public struct KeyState: Sendable, Equatable {
        public let keyId: String
        public let state: String?
        public let enabled: Bool
    }

    private struct DescribeKeyInput: Encodable { let KeyId: String }
    private struct DescribeKeyOutput: Decodable {
        struct Metadata: Decodable {
            let KeyId: String
            let KeyState: String?
            let Enabled: Bool?
        }
        let KeyMetadata: Metadata
    }

    /// The key's state, or nil when KMS says `NotFoundException`.
    public func describeKey(region: String, keyId: String, deadline: Date? = nil) async throws -> KeyState? {
        let service = AWSServiceDescriptor.kms
        let request = try JSONProtocol.request(operation: "DescribeKey", service: service, input: DescribeKeyInput(KeyId: keyId))
        do {
            let response = try await client.send(request, service: service, region: region, deadline: deadline)
            let output = try AWSResponseDecoding.json(DescribeKeyOutput.self, from: response, operation: "DescribeKey")
            return KeyState(keyId: output.KeyMetadata.KeyId, state: output.KeyMetadata.KeyState,
                            enabled: output.KeyMetadata.Enabled ?? (output.KeyMetadata.KeyState == "Enabled"))
        } catch let error as AWSServiceError where error.code == "NotFoundException" {
            return nil
        }
    }
}
