import DRCore
import Foundation

/// The fields of `DBInstance` that drctl reads.
/// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBInstance.html
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
    public let kmsKeyId: String?
    public let backupRetentionPeriod: Int?
    public let subnetGroupName: String?
    /// Parameter group names with their apply status (`in-sync`, `pending-reboot`, `applying`).
    public let parameterGroups: [ParameterGroupStatus]
    /// Option group names (`OptionGroupMemberships`), `default:ENGINE-VERSION` when none was chosen.
    public let optionGroups: [String]
    public let vpcSecurityGroupIds: [String]
    /// True when every VPC security group membership is `active` (none `adding` or `removing`).
    public let vpcSecurityGroupsActive: Bool
    /// `TagList` as DescribeDBInstances returns it (empty when the response has none).
    public let tags: [RDSTag]

    public struct ParameterGroupStatus: Sendable, Equatable, Codable {
        public let name: String
        public let applyStatus: String
    }

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
        kmsKeyId = xml.string("KmsKeyId").flatMap { $0.isEmpty ? nil : $0 }
        backupRetentionPeriod = xml.string("BackupRetentionPeriod").flatMap(Int.init)
        subnetGroupName = xml["DBSubnetGroup", "DBSubnetGroupName"]?.text
        parameterGroups = xml.list("DBParameterGroups", member: "DBParameterGroup").map {
            ParameterGroupStatus(name: $0.string("DBParameterGroupName") ?? "", applyStatus: $0.string("ParameterApplyStatus") ?? "")
        }
        optionGroups = xml.list("OptionGroupMemberships", member: "OptionGroupMembership").compactMap { $0.string("OptionGroupName") }
        let memberships = xml.list("VpcSecurityGroups", member: "VpcSecurityGroupMembership")
        vpcSecurityGroupIds = memberships.compactMap { $0.string("VpcSecurityGroupId") }
        vpcSecurityGroupsActive = memberships.allSatisfy { ($0.string("Status") ?? "active") == "active" }
        tags = RDSTag.list(xml)
    }

    /// `address:port`, what applications connect to.
    public var endpoint: String? {
        guard let endpointAddress else { return nil }
        return endpointPort.map { "\(endpointAddress):\($0)" } ?? endpointAddress
    }

    /// A standalone instance: not (or no longer) replicating from another.
    public var isStandalone: Bool { readReplicaSource == nil }
}

/// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBSnapshot.html
public struct DBSnapshot: Sendable, Equatable, Codable {
    public let identifier: String
    public let arn: String?
    public let instanceIdentifier: String?
    public let status: String
    public let snapshotType: String?
    public let encrypted: Bool
    public let kmsKeyId: String?
    public let createTime: String?
    /// When the data was snapshotted; unlike `createTime`, a copy keeps the original's time.
    public let originalCreateTime: String?
    public let sourceRegion: String?
    /// `TagList` as DescribeDBSnapshots returns it (empty when the response has none).
    public let tags: [RDSTag]

    init(xml: XMLNode) {
        identifier = xml.string("DBSnapshotIdentifier") ?? ""
        arn = xml.string("DBSnapshotArn")
        instanceIdentifier = xml.string("DBInstanceIdentifier")
        status = xml.string("Status") ?? ""
        snapshotType = xml.string("SnapshotType")
        encrypted = xml.string("Encrypted") == "true"
        kmsKeyId = xml.string("KmsKeyId").flatMap { $0.isEmpty ? nil : $0 }
        createTime = xml.string("SnapshotCreateTime")
        originalCreateTime = xml.string("OriginalSnapshotCreateTime")
        sourceRegion = xml.string("SourceRegion")
        tags = RDSTag.list(xml)
    }
}

public struct DBSubnetGroup: Sendable, Equatable, Codable {
    public let name: String
    public let vpcId: String?
    public let status: String?

    init(xml: XMLNode) {
        name = xml.string("DBSubnetGroupName") ?? ""
        vpcId = xml.string("VpcId")
        status = xml.string("SubnetGroupStatus")
    }
}

public struct DBParameterGroup: Sendable, Equatable, Codable {
    public let name: String
    public let family: String?

    init(xml: XMLNode) {
        name = xml.string("DBParameterGroupName") ?? ""
        family = xml.string("DBParameterGroupFamily")
    }
}

public struct RDSTag: Sendable, Equatable, Codable {
    public let key: String
    public let value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// The `TagList` of a described resource.
    static func list(_ xml: XMLNode) -> [RDSTag] {
        xml.list("TagList", member: "Tag").map { RDSTag(key: $0.string("Key") ?? "", value: $0.string("Value") ?? "") }
    }
}
