import DRCore
import Foundation

/// Amazon RDS over the Query protocol. This first slice reads instances; the failover issue adds
/// the mutations. https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstances.html
public struct RDSClient: Sendable {
    let client: AWSClient
    let service = AWSServiceDescriptor.rds

    public init(client: AWSClient) { self.client = client }

    /// Every instance in `region` (or the one named), following `Marker` pagination.
    public func describeDBInstances(region: String, identifier: String? = nil, pageSize: Int? = nil) async throws -> [DBInstance] {
        try await collectPages { marker in
            var parameters = QueryParameters()
            parameters.set("DBInstanceIdentifier", identifier)
            parameters.set("MaxRecords", pageSize)
            parameters.set("Marker", marker)
            let request = QueryProtocol.request(action: "DescribeDBInstances", version: service.apiVersion, parameters: parameters)
            let response = try await client.send(request, service: service, region: region)
            let result = try QueryProtocol.result(of: response, action: "DescribeDBInstances")
            let instances = result.list("DBInstances", member: "DBInstance").map(DBInstance.init(xml:))
            return (instances, result.string("Marker"))
        }
    }
}

/// The fields of `DBInstance` that drctl reads.
public struct DBInstance: Sendable, Equatable, Codable {
    public let identifier: String
    public let arn: String?
    public let status: String
    public let engine: String?
    public let instanceClass: String?
    public let endpointAddress: String?
    public let endpointPort: Int?
    public let readReplicaSource: String?
    public let readReplicas: [String]
    public let multiAZ: Bool
    public let storageEncrypted: Bool
    public let backupRetentionPeriod: Int?

    init(xml: XMLNode) {
        identifier = xml.string("DBInstanceIdentifier") ?? ""
        arn = xml.string("DBInstanceArn")
        status = xml.string("DBInstanceStatus") ?? ""
        engine = xml.string("Engine")
        instanceClass = xml.string("DBInstanceClass")
        endpointAddress = xml["Endpoint", "Address"]?.text
        endpointPort = xml["Endpoint", "Port"].flatMap { Int($0.text) }
        readReplicaSource = xml.string("ReadReplicaSourceDBInstanceIdentifier").flatMap { $0.isEmpty ? nil : $0 }
        readReplicas = xml.list("ReadReplicaDBInstanceIdentifiers", member: "ReadReplicaDBInstanceIdentifier").map(\.text)
        multiAZ = xml.string("MultiAZ") == "true"
        storageEncrypted = xml.string("StorageEncrypted") == "true"
        backupRetentionPeriod = xml.string("BackupRetentionPeriod").flatMap(Int.init)
    }
}
