import Foundation

/// The parts of a Cloud SQL `DatabaseInstance` the actions read
/// (https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances#DatabaseInstance).
public struct SQLInstance: Sendable, Decodable, Equatable {
    public struct IPAddress: Sendable, Decodable, Equatable {
        public let type: String?
        public let ipAddress: String?
    }

    public struct Settings: Sendable, Decodable, Equatable {
        public let activationPolicy: String?
        public let availabilityType: String?
        /// int64 in proto3 JSON: a string on the wire (a number is accepted too).
        public let settingsVersion: String?
        public let userLabels: [String: String]?

        enum CodingKeys: String, CodingKey { case activationPolicy, availabilityType, settingsVersion, userLabels }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            activationPolicy = try container.decodeIfPresent(String.self, forKey: .activationPolicy)
            availabilityType = try container.decodeIfPresent(String.self, forKey: .availabilityType)
            userLabels = try container.decodeIfPresent([String: String].self, forKey: .userLabels)
            if let text = try? container.decodeIfPresent(String.self, forKey: .settingsVersion) {
                settingsVersion = text
            } else {
                settingsVersion = try container.decodeIfPresent(Int64.self, forKey: .settingsVersion).map { String($0) }
            }
        }
    }

    public struct ReplicationCluster: Sendable, Decodable, Equatable {
        public let failoverDrReplicaName: String?
        public let drReplica: Bool?
    }

    public let name: String
    /// RUNNABLE, PENDING_CREATE, MAINTENANCE, FAILED, PENDING_DELETE, SUSPENDED …
    public let state: String?
    /// CLOUD_SQL_INSTANCE (a primary), READ_REPLICA_INSTANCE, ON_PREMISES_INSTANCE (an external primary).
    public let instanceType: String?
    public let masterInstanceName: String?
    public let replicaNames: [String]?
    public let region: String?
    public let gceZone: String?
    public let secondaryGceZone: String?
    public let connectionName: String?
    public let ipAddresses: [IPAddress]?
    public let settings: Settings?
    public let replicationCluster: ReplicationCluster?

    /// A primary: no master, not a replica (whether its source was Cloud SQL or external).
    public var isStandalone: Bool { instanceType == "CLOUD_SQL_INSTANCE" && masterInstanceName == nil }
    public var isRunnable: Bool { state == "RUNNABLE" }
    /// Stopped by `settings.activationPolicy: NEVER` (Cloud SQL has no STOPPED state; gcloud shows
    /// STOPPED for a RUNNABLE instance with this policy).
    public var isStopped: Bool { settings?.activationPolicy == "NEVER" }
    public var replicas: [String] { replicaNames ?? [] }
    public var labels: [String: String] { settings?.userLabels ?? [:] }
}

/// An entry of `operations.list`: enough to find the operation a crashed attempt left running.
struct SQLOperationEntry: Sendable, Decodable {
    let name: String
    let status: String?
    /// PROMOTE_REPLICA, SWITCHOVER, FAILOVER, UPDATE, BACKUP_VOLUME, CLONE, DELETE …
    let operationType: String?
    let targetId: String?
    let insertTime: String?
    var isDone: Bool { status == "DONE" }
    var inserted: Date? { insertTime.flatMap(RFC3339.parse) }
}

struct SQLOperationList: Sendable, Decodable {
    let items: [SQLOperationEntry]?
    let nextPageToken: String?
}

struct SQLBackupRun: Sendable, Decodable {
    let id: String?
    let status: String?
    let type: String?
    let description: String?
    let endTime: String?
}

struct SQLBackupRunList: Sendable, Decodable {
    let items: [SQLBackupRun]?
    let nextPageToken: String?
}

