import DRCore
import Foundation

/// Amazon RDS over the Query protocol. Operations are grouped by concern in the
/// `RDSClient+*.swift` files; all of them go through `call`, hence through `AWSClient`'s one
/// pipeline (signing, retries, error decoding).
/// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Operations.html
public struct RDSClient: Sendable {
    public let client: AWSClient
    let service = AWSServiceDescriptor.rds

    public init(client: AWSClient) { self.client = client }

    /// Sends one RDS action and returns its `<ActionResult>`.
    func call(_ action: String, region: String, deadline: Date? = nil,
              _ build: (inout QueryParameters) -> Void = { _ in }) async throws -> XMLNode {
        var parameters = QueryParameters()
        build(&parameters)
        let request = QueryProtocol.request(action: action, version: service.apiVersion, parameters: parameters)
        let response = try await client.send(request, service: service, region: region, deadline: deadline)
        return try QueryProtocol.result(of: response, action: action)
    }

    /// Every instance in `region` (or the one named), following `Marker` pagination.
    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstances.html
    public func describeDBInstances(region: String, identifier: String? = nil, pageSize: Int? = nil,
                                    deadline: Date? = nil) async throws -> [DBInstance] {
        try await collectPages { marker in
            let result = try await call("DescribeDBInstances", region: region, deadline: deadline) {
                $0.set("DBInstanceIdentifier", identifier)
                $0.set("MaxRecords", pageSize)
                $0.set("Marker", marker)
            }
            return (result.list("DBInstances", member: "DBInstance").map(DBInstance.init(xml:)), result.string("Marker"))
        }
    }

    /// The instance, or nil when RDS says `DBInstanceNotFound`.
    public func findDBInstance(region: String, identifier: String, deadline: Date? = nil) async throws -> DBInstance? {
        do {
            return try await describeDBInstances(region: region, identifier: identifier, deadline: deadline).first
        } catch let error as AWSServiceError where error.code == "DBInstanceNotFound" || error.code == "DBInstanceNotFoundFault" {
            return nil
        }
    }
}
