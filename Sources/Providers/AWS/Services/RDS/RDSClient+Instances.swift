import DRCore
import Foundation

/// Mutations of DB instances. Each returns the instance as RDS reports it right after the call
/// (usually in a transitional state: wait with `RDSWaiters`).
extension RDSClient {
    /// What a new instance needs. `masterUserPassword` is sent and never stored, logged or journaled.
    public struct NewInstance: Sendable {
        public var identifier: String
        public var instanceClass: String
        public var engine: String
        public var masterUsername: String
        public var masterUserPassword: String
        public var allocatedStorage: Int
        public var backupRetentionPeriod: Int?
        public var storageEncrypted: Bool?
        public var tags: [RDSTag]

        public init(identifier: String, instanceClass: String, engine: String, masterUsername: String, masterUserPassword: String,
                    allocatedStorage: Int, backupRetentionPeriod: Int? = nil, storageEncrypted: Bool? = nil, tags: [RDSTag] = []) {
            self.identifier = identifier
            self.instanceClass = instanceClass
            self.engine = engine
            self.masterUsername = masterUsername
            self.masterUserPassword = masterUserPassword
            self.allocatedStorage = allocatedStorage
            self.backupRetentionPeriod = backupRetentionPeriod
            self.storageEncrypted = storageEncrypted
            self.tags = tags
        }
    }

    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html
    public func createDBInstance(region: String, _ new: NewInstance, deadline: Date? = nil) async throws -> DBInstance {
        try await instanceCall("CreateDBInstance", region: region, deadline: deadline) {
            $0.set("DBInstanceIdentifier", new.identifier)
            $0.set("DBInstanceClass", new.instanceClass)
            $0.set("Engine", new.engine)
            $0.set("MasterUsername", new.masterUsername)
            $0.set("MasterUserPassword", new.masterUserPassword)
            $0.set("AllocatedStorage", new.allocatedStorage)
            $0.set("BackupRetentionPeriod", new.backupRetentionPeriod)
            $0.set("StorageEncrypted", new.storageEncrypted)
            Self.setTags(&$0, new.tags)
        }
    }

    /// A read replica in `region` of an instance in `sourceRegion` (named by ARN when the regions
    /// differ, with a `PreSignedUrl` for the source region).
    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstanceReadReplica.html
    public func createDBInstanceReadReplica(region: String, identifier: String, source: String, sourceRegion: String?,
                                            instanceClass: String? = nil, kmsKeyId: String? = nil, subnetGroup: String? = nil,
                                            tags: [RDSTag] = [], deadline: Date? = nil) async throws -> DBInstance {
        var parameters = QueryParameters()
        parameters.set("DBInstanceIdentifier", identifier)
        parameters.set("SourceDBInstanceIdentifier", source)
        parameters.set("DBInstanceClass", instanceClass)
        parameters.set("KmsKeyId", kmsKeyId)
        parameters.set("DBSubnetGroupName", subnetGroup)
        Self.setTags(&parameters, tags)
        try await addPresignedURL(to: &parameters, action: "CreateDBInstanceReadReplica", sourceRegion: sourceRegion, region: region)
        let prepared = parameters
        return try await instanceCall("CreateDBInstanceReadReplica", region: region, deadline: deadline) { $0 = prepared }
    }

    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_PromoteReadReplica.html
    public func promoteReadReplica(region: String, identifier: String, backupRetentionPeriod: Int? = nil,
                                   deadline: Date? = nil) async throws -> DBInstance {
        try await instanceCall("PromoteReadReplica", region: region, deadline: deadline) {
            $0.set("DBInstanceIdentifier", identifier)
            $0.set("BackupRetentionPeriod", backupRetentionPeriod)
        }
    }

    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceFromDBSnapshot.html
    public func restoreDBInstanceFromDBSnapshot(region: String, identifier: String, snapshot: String, instanceClass: String? = nil,
                                                subnetGroup: String? = nil, tags: [RDSTag] = [],
                                                deadline: Date? = nil) async throws -> DBInstance {
        try await instanceCall("RestoreDBInstanceFromDBSnapshot", region: region, deadline: deadline) {
            $0.set("DBInstanceIdentifier", identifier)
            $0.set("DBSnapshotIdentifier", snapshot)
            $0.set("DBInstanceClass", instanceClass)
            $0.set("DBSubnetGroupName", subnetGroup)
            Self.setTags(&$0, tags)
        }
    }

    public enum RestorePoint: Sendable, Equatable {
        case latest
        case time(Date)
    }

    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceToPointInTime.html
    public func restoreDBInstanceToPointInTime(region: String, source: String, target: String, to point: RestorePoint,
                                               instanceClass: String? = nil, subnetGroup: String? = nil,
                                               deadline: Date? = nil) async throws -> DBInstance {
        try await instanceCall("RestoreDBInstanceToPointInTime", region: region, deadline: deadline) {
            $0.set("SourceDBInstanceIdentifier", source)
            $0.set("TargetDBInstanceIdentifier", target)
            switch point {
            case .latest: $0.set("UseLatestRestorableTime", true)
            case .time(let date): $0.set("RestoreTime", ISO8601DateFormatter().string(from: date))
            }
            $0.set("DBInstanceClass", instanceClass)
            $0.set("DBSubnetGroupName", subnetGroup)
        }
    }

    /// The changes drctl makes with ModifyDBInstance; nil fields are left alone.
    public struct Modification: Sendable, Equatable {
        public var parameterGroup: String?
        public var vpcSecurityGroupIds: [String]?
        public var dbSecurityGroups: [String]?
        public var backupRetentionPeriod: Int?
        public var applyImmediately: Bool?

        public init(parameterGroup: String? = nil, vpcSecurityGroupIds: [String]? = nil, dbSecurityGroups: [String]? = nil,
                    backupRetentionPeriod: Int? = nil, applyImmediately: Bool? = nil) {
            self.parameterGroup = parameterGroup
            self.vpcSecurityGroupIds = vpcSecurityGroupIds
            self.dbSecurityGroups = dbSecurityGroups
            self.backupRetentionPeriod = backupRetentionPeriod
            self.applyImmediately = applyImmediately
        }
    }

    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html
    public func modifyDBInstance(region: String, identifier: String, _ change: Modification,
                                 deadline: Date? = nil) async throws -> DBInstance {
        try await instanceCall("ModifyDBInstance", region: region, deadline: deadline) {
            $0.set("DBInstanceIdentifier", identifier)
            $0.set("DBParameterGroupName", change.parameterGroup)
            // List members carry the model's locationName: VpcSecurityGroupIds.VpcSecurityGroupId.1.
            if let ids = change.vpcSecurityGroupIds { $0.setList("VpcSecurityGroupIds", ids, member: "VpcSecurityGroupId") }
            if let names = change.dbSecurityGroups { $0.setList("DBSecurityGroups", names, member: "DBSecurityGroupName") }
            $0.set("BackupRetentionPeriod", change.backupRetentionPeriod)
            $0.set("ApplyImmediately", change.applyImmediately)
        }
    }

    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_StopDBInstance.html
    public func stopDBInstance(region: String, identifier: String, deadline: Date? = nil) async throws -> DBInstance {
        try await instanceCall("StopDBInstance", region: region, deadline: deadline) { $0.set("DBInstanceIdentifier", identifier) }
    }

    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RebootDBInstance.html
    public func rebootDBInstance(region: String, identifier: String, forceFailover: Bool? = nil,
                                 deadline: Date? = nil) async throws -> DBInstance {
        try await instanceCall("RebootDBInstance", region: region, deadline: deadline) {
            $0.set("DBInstanceIdentifier", identifier)
            $0.set("ForceFailover", forceFailover)
        }
    }

    public enum FinalSnapshot: Sendable, Equatable {
        case skip
        case named(String)
    }

    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html
    public func deleteDBInstance(region: String, identifier: String, finalSnapshot: FinalSnapshot,
                                 deadline: Date? = nil) async throws -> DBInstance {
        try await instanceCall("DeleteDBInstance", region: region, deadline: deadline) {
            $0.set("DBInstanceIdentifier", identifier)
            switch finalSnapshot {
            case .skip: $0.set("SkipFinalSnapshot", true)
            case .named(let name):
                $0.set("SkipFinalSnapshot", false)
                $0.set("FinalDBSnapshotIdentifier", name)
            }
        }
    }

    private func instanceCall(_ action: String, region: String, deadline: Date?,
                              _ build: (inout QueryParameters) -> Void) async throws -> DBInstance {
        let result = try await call(action, region: region, deadline: deadline, build)
        return DBInstance(xml: result.child("DBInstance") ?? result)
    }
}
