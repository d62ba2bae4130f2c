import DRCore

/// The `aws:` section of a DR plan: RDS databases and their replicas, S3 bucket pairs, Secrets
/// Manager secrets, Route 53 records, ARC routing controls and warm-standby capacity. Its
/// regions are AWS sites (`us-east-1`, written bare).
public struct AWSPlanSection: PlanSection, Equatable {
    public var databases: [Database] = []
    public var buckets: [BucketPair] = []
    /// Secrets Manager secrets the applications read: each needs a replica where they will run.
    public var secrets: [Secret] = []
    public var records: [DNSRecord] = []
    public var routingControls: [RoutingControl] = []
    /// Warm-standby capacity to bring up in each region when it becomes active.
    public var standby: [String: Standby] = [:]

    public init() {}

    public struct Endpoint: Sendable, Equatable {
        public var region: String
        public var instance: String
    }

    public struct Database: Sendable, Equatable {
        public var name: String
        public var primary: Endpoint
        public var replicas: [Endpoint]
        /// "stop" | "parameter-group" | "reboot-read-only" | "security-group"
        public var fence: String
        public var fenceParameterGroup: String?
        /// The isolating VPC security groups of `fence: security-group`.
        public var fenceSecurityGroups: [String] = []
        public var backupRetentionDays: Int

        public func replica(in region: String) -> Endpoint? { replicas.first { $0.region == region } }
    }

    public struct BucketPair: Sendable, Equatable {
        public var source: String
        public var sourceRegion: String
        public var destination: String
        public var destinationRegion: String
        public var storageClass: String?
    }

    public struct Secret: Sendable, Equatable {
        /// The secret's name (not its ARN, which names one region).
        public var name: String
        /// The region of the primary secret.
        public var region: String
        /// A failover (not a switchover) promotes the replica in the target region to a standalone
        /// secret, so it can be changed and rotated there (`aws.secretsmanager.promote-replica`).
        public var promoteOnFailover: Bool = false
    }

    public struct DNSRecord: Sendable, Equatable {
        /// The hosted zone's id; empty when the plan names the zone by `zone_name` (resolved by
        /// the provider's `prepare` before it writes a runbook).
        public var zoneId: String
        public var zoneName: String?
        public var name: String
        public var type: String
        public var ttl: Int
        /// The record's values when each site is active, by site as written.
        public var values: [String: [String]]
    }

    public struct RoutingControl: Sendable, Equatable {
        public var arn: String
        /// The region whose traffic this control turns on.
        public var region: String
        public var clusterEndpoints: [ClusterEndpoint]

        public struct ClusterEndpoint: Sendable, Equatable {
            public var endpoint: String
            public var region: String
        }
    }

    public struct Standby: Sendable, Equatable {
        public var eksNodegroups: [Nodegroup]
        public var autoScalingGroups: [ScalingGroup]
        public var ecsServices: [ECSService]

        public struct Nodegroup: Sendable, Equatable {
            public var cluster: String
            public var nodegroup: String
            public var min: Int
            public var max: Int
            public var desired: Int
        }

        public struct ScalingGroup: Sendable, Equatable {
            public var group: String
            public var min: Int?
            public var max: Int?
            public var desired: Int
        }

        public struct ECSService: Sendable, Equatable {
            public var cluster: String
            public var service: String
            public var desired: Int
        }

        public var isEmpty: Bool { eksNodegroups.isEmpty && autoScalingGroups.isEmpty && ecsServices.isEmpty }
    }

    /// Whether a move to `region` moves traffic through Route 53 records (its control plane lives
    /// in us-east-1), rather than through ARC routing controls of that region (the data plane).
    public func cutsOverByDNS(to region: String) -> Bool {
        !routingControls.contains { $0.region == region }
    }

    /// The regions the section protects resources in, and those it has standby capacity in.
    public var regions: Set<String> { protectedRegions.union(standby.keys) }

    /// The regions the section protects resources in: the ones DNS values and standby capacity may be given for.
    public var protectedRegions: Set<String> {
        var all: Set<String> = []
        for database in databases { all.insert(database.primary.region); database.replicas.forEach { all.insert($0.region) } }
        for bucket in buckets { all.insert(bucket.sourceRegion); all.insert(bucket.destinationRegion) }
        for secret in secrets { all.insert(secret.region) }
        for control in routingControls { all.insert(control.region) }
        return all
    }

    public var sites: Set<Site> { Set(regions.filter { !$0.isEmpty }.map { Site(cloud: AWSPlanSectionKind.cloud, region: $0) }) }

    /// A database with its primary in `from` and a replica in `to`, a DNS record, or standby
    /// capacity in `to` (what the generated move has steps for).
    public func hasWork(from: Site, to: Site) -> Bool {
        let fromAWS = from.cloud == AWSPlanSectionKind.cloud, toAWS = to.cloud == AWSPlanSectionKind.cloud
        if fromAWS && toAWS && databases.contains(where: { $0.primary.region == from.region && $0.replica(in: to.region) != nil }) { return true }
        // As before sites: any record makes a move between AWS regions worth a runbook.
        if toAWS ? !records.isEmpty : records.contains(where: { !($0.values[to.description] ?? []).isEmpty }) { return true }
        return toAWS && !(standby[to.region]?.isEmpty ?? true)
    }
}

extension DRPlan {
    /// The plan's `aws:` section (empty when it has none).
    public var aws: AWSPlanSection {
        get { section(AWSPlanSectionKind.cloud, as: AWSPlanSection.self) ?? AWSPlanSection() }
        set { setSection(AWSPlanSectionKind.cloud, newValue) }
    }
}
