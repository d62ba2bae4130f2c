import DRCore
import Foundation

/// Manual DB snapshots: create, describe, copy across regions.
extension RDSClient {
    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSnapshot.html
    public func createDBSnapshot(region: String, instance: String, snapshot: String, tags: [RDSTag] = [],
                                 deadline: Date? = nil) async throws -> DBSnapshot {
        let result = try await call("CreateDBSnapshot", region: region, deadline: deadline) {
            $0.set("DBInstanceIdentifier", instance)
            $0.set("DBSnapshotIdentifier", snapshot)
            Self.setTags(&$0, tags)
        }
        return DBSnapshot(xml: result.child("DBSnapshot") ?? result)
    }

    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBSnapshots.html
    public func describeDBSnapshots(region: String, snapshot: String? = nil, instance: String? = nil,
                                    snapshotType: String? = nil, deadline: Date? = nil) async throws -> [DBSnapshot] {
        try await collectPages { marker in
            let result = try await call("DescribeDBSnapshots", region: region, deadline: deadline) {
                $0.set("DBSnapshotIdentifier", snapshot)
                $0.set("DBInstanceIdentifier", instance)
                $0.set("SnapshotType", snapshotType)
                $0.set("Marker", marker)
            }
            return (result.list("DBSnapshots", member: "DBSnapshot").map(DBSnapshot.init(xml:)), result.string("Marker"))
        }
    }

    /// The snapshot, or nil when RDS says `DBSnapshotNotFound`.
    public func findDBSnapshot(region: String, snapshot: String, deadline: Date? = nil) async throws -> DBSnapshot? {
        do {
            return try await describeDBSnapshots(region: region, snapshot: snapshot, deadline: deadline).first
        } catch let error as AWSServiceError where error.code.hasPrefix("DBSnapshotNotFound") {
            return nil
        }
    }

    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBSnapshot.html
    public func deleteDBSnapshot(region: String, snapshot: String, deadline: Date? = nil) async throws {
        _ = try await call("DeleteDBSnapshot", region: region, deadline: deadline) { $0.set("DBSnapshotIdentifier", snapshot) }
    }

    /// Copies a snapshot into `region`. With `sourceRegion` different from `region`, the source is
    /// named by its ARN and a `PreSignedUrl` for the source region is attached (as the SDKs do).
    /// An encrypted source needs `kmsKeyId` of a key in the destination region: KMS keys are regional.
    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html
    public func copyDBSnapshot(region: String, sourceRegion: String?, sourceSnapshot: String, targetSnapshot: String,
                               kmsKeyId: String? = nil, copyTags: Bool? = nil, tags: [RDSTag] = [],
                               deadline: Date? = nil) async throws -> DBSnapshot {
        var parameters = QueryParameters()
        parameters.set("SourceDBSnapshotIdentifier", sourceSnapshot)
        parameters.set("TargetDBSnapshotIdentifier", targetSnapshot)
        parameters.set("KmsKeyId", kmsKeyId)
        parameters.set("CopyTags", copyTags)
        Self.setTags(&parameters, tags)
        try await addPresignedURL(to: &parameters, action: "CopyDBSnapshot", sourceRegion: sourceRegion, region: region)
        let prepared = parameters
        let result = try await call("CopyDBSnapshot", region: region, deadline: deadline) { $0 = prepared }
        return DBSnapshot(xml: result.child("DBSnapshot") ?? result)
    }

    /// `Tags.Tag.1.Key`: RDS's `TagList` names its members `Tag` (locationName in the model).
    static func setTags(_ parameters: inout QueryParameters, _ tags: [RDSTag], name: String = "Tags") {
        parameters.setStructures(name, tags, member: "Tag") { parameters, prefix, tag in
            parameters.set("\(prefix).Key", tag.key)
            parameters.set("\(prefix).Value", tag.value)
        }
    }
}
