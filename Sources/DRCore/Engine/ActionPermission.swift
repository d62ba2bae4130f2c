/// What the caller of an action needs, declared by the action itself: `drctl actions` lists it,
/// and a least-privilege policy can be generated from it (issue 16) instead of written by hand.
///
/// AWS permissions name the API operation the action's observe / act / verify call
/// (`rds:PromoteReadReplica`, checked against botocore's service models by the tests) and the IAM
/// action that allows it, which for a few S3 operations has another name
/// (ListObjectsV2 → `s3:ListBucket`, HeadObject → `s3:GetObject`,
/// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html "Permissions").
/// Google Cloud permissions name the IAM permission (`cloudsql.instances.promoteReplica`,
/// https://cloud.google.com/sql/docs/postgres/iam-permissions) and, as `operation`, the discovery
/// method id of the call that needs it (`sqladmin.instances.promoteReplica`).
/// PostgreSQL permissions are privileges in words: there is no policy language to generate.
public struct ActionPermission: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        /// An AWS IAM action.
        case aws
        /// A PostgreSQL privilege, role membership or grant.
        case postgres
        /// A Google Cloud IAM permission.
        case gcp
    }

    public let kind: Kind
    /// What to grant: the IAM action (`s3:ListBucket`), or the privilege in words.
    public let name: String
    /// AWS: the API operation as `iam-prefix:OperationName` (`s3:ListObjectsV2`); Google Cloud: the
    /// discovery method id (`sqladmin.instances.get`); nil for PostgreSQL.
    public let operation: String?
    /// When it is needed, if not always (`method: stop` only, with `kms_key_id` …).
    public let note: String?

    /// An AWS API operation the action calls, `prefix:Operation`; `iam` when the IAM action that
    /// allows it has another name.
    public static func aws(_ operation: String, iam: String? = nil, note: String? = nil) -> ActionPermission {
        ActionPermission(kind: .aws, name: iam ?? operation, operation: operation, note: note)
    }

    /// A Google Cloud IAM permission (`cloudsql.instances.get`) and the API method that needs it.
    public static func gcp(_ permission: String, method: String, note: String? = nil) -> ActionPermission {
        ActionPermission(kind: .gcp, name: permission, operation: method, note: note)
    }

    public static func postgres(_ privilege: String, note: String? = nil) -> ActionPermission {
        ActionPermission(kind: .postgres, name: privilege, operation: nil, note: note)
    }

    public var description: String {
        var text = name
        if let operation, operation != name { text += " (for \(operation))" }
        if let note { text += ": \(note)" }
        return text
    }
}
