/// The DR plan (`drplan.yaml`): what is protected, where, and the budgets. `drctl failover`,
/// `switchover`, `status` and drills read it; it is validated like a runbook.
public struct DRPlan: Sendable, Equatable {
    public var name: String
    public var primaryRegion: String
    public var drRegion: String
    public var budgets: RunbookBudgets
    /// Cron expression of the drill schedule (default: quarterly).
    public var drillSchedule: String
    public var databases: [Database]
    public var buckets: [BucketPair]
    /// Secrets Manager secrets the applications read: each needs a replica where they will run.
    public var secrets: [Secret] = []
    public var records: [DNSRecord]
    public var routingControls: [RoutingControl]
    /// Warm-standby capacity to bring up in each region when it becomes active.
    public var standby: [String: Standby]
    /// Runbooks to run instead of the generated ones, by kind ("failover", "switchover") and target region.
    public var runbooks: [String: [String: String]]
    public var source: RunbookSource
    /// How `drctl drill run` restores, validates and bounds a drill (`drills:` in the plan).
    public var drill: Drill = Drill()
    public var description: String = ""
    /// Where the plan names its resources (its `aws:` key, else the top of the file): a move that
    /// finds nothing to do is reported there.
    public var resourcesLocation = FileLocation()

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
        /// the CLI before it generates a runbook).
        public var zoneId: String
        public var zoneName: String?
        public var name: String
        public var type: String
        public var ttl: Int
        /// The record's values when each region is active.
        public var values: [String: [String]]
    }

    /// Whether a move to `region` moves traffic through Route 53 records (its control plane lives
    /// in us-east-1), rather than through ARC routing controls of that region (the data plane).
    public func cutsOverByDNS(to region: String) -> Bool {
        !routingControls.contains { $0.region == region }
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

    /// Why a move from `from` to `to` has nothing to do — no database with its primary in `from`
    /// and a replica in `to`, no DNS record, no standby capacity in `to` — located in the plan;
    /// nil when it has something.
    public func nothingToMove(from: String, to: String) -> RunbookValidationError? {
        let databases = databases.filter { $0.primary.region == from && $0.replica(in: to) != nil }
        guard databases.isEmpty && records.isEmpty && (standby[to]?.isEmpty ?? true) else { return nil }
        return RunbookValidationError(problems: [RunbookProblem(location: resourcesLocation, message: """
            found a plan that protects nothing that can move from \(from) to \(to), expected a database with its primary in \(from) \
            and a replica in \(to), a DNS record, or standby capacity in \(to)
            """)])
    }

    /// The regions the plan protects resources in: the ones DNS values, standby capacity and
    /// runbooks may be given for.
    public var protectedRegions: Set<String> {
        var all: Set<String> = [primaryRegion, drRegion]
        for database in databases { all.insert(database.primary.region); database.replicas.forEach { all.insert($0.region) } }
        for bucket in buckets { all.insert(bucket.sourceRegion); all.insert(bucket.destinationRegion) }
        for secret in secrets { all.insert(secret.region) }
        for control in routingControls { all.insert(control.region) }
        return all
    }

    /// Every region the plan names.
    public var regions: Set<String> { protectedRegions.union(standby.keys) }
}
