import DRCore

/// The `gcp:` section of a DR plan: Cloud SQL databases and their cross-region (or cross-cloud)
/// replicas, Cloud DNS records, GKE standby node pools, Storage Transfer jobs and buckets, all in
/// one project. Its sites are `gcp:REGION`; a resource of this section in another cloud's site is
/// refused where it is written. The full syntax is in docs/plans.md ("The gcp: section").
public struct GCPPlanSection: PlanSection, Equatable {
    public var project: String = ""
    /// Billed for the API calls (`x-goog-user-project`) when set.
    public var quotaProject: String?
    /// The service account the plan's calls act as, unless `--impersonate-service-account` names one.
    public var impersonateServiceAccount: String?
    public var databases: [Database] = []
    public var records: [DNSRecord] = []
    /// Node pools to bring up in each site when it becomes active, by site.
    public var standby: [Site: [NodePool]] = [:]
    public var transfers: [Transfer] = []
    public var buckets: [Bucket] = []

    public init() {}

    public struct Instance: Sendable, Equatable {
        public var site: Site
        public var instance: String
    }

    /// Where a database's primary runs: a Cloud SQL instance, or a primary outside Google Cloud
    /// (AWS RDS, self-managed PostgreSQL) that the Cloud SQL replicas follow as an external server.
    public enum Primary: Sendable, Equatable {
        case cloudSQL(Instance)
        /// `follows` names the primary's database in its own provider's section (`aws:orders`).
        case external(site: Site, follows: SectionReference)

        public var site: Site {
            switch self {
            case .cloudSQL(let instance): instance.site
            case .external(let site, _): site
            }
        }
    }

    /// `aws:orders`: the section's key and a database name in it.
    public struct SectionReference: Sendable, Equatable, CustomStringConvertible {
        public var section: String
        public var database: String
        public var description: String { "\(section):\(database)" }
    }

    public struct Database: Sendable, Equatable {
        public var name: String
        public var primary: Primary
        public var replicas: [Instance]
        /// `stop` (Cloud SQL activation policy NEVER; for an external primary, its own provider's
        /// fence) | `none` (the move promotes without fencing: only when writes are stopped otherwise).
        public var fence: String

        public func replica(in site: Site) -> Instance? { replicas.first { $0.site == site } }
    }

    public struct DNSRecord: Sendable, Equatable {
        /// The managed zone's name (not its DNS name).
        public var zone: String
        public var name: String
        public var type: String
        public var ttl: Int
        /// The record's values when each site is active, by site.
        public var values: [Site: [String]]
    }

    public struct NodePool: Sendable, Equatable {
        public var location: String
        public var cluster: String
        public var pool: String
        public var nodeCount: Int
        public var min: Int?
        public var max: Int?
    }

    /// A Storage Transfer Service job copying into `site` (S3 → GCS): its last run is the data-loss signal.
    public struct Transfer: Sendable, Equatable {
        public var job: String
        public var site: Site
    }

    /// A bucket whose replication is checked (dual-region, `require_turbo`: rpo ASYNC_TURBO).
    public struct Bucket: Sendable, Equatable {
        public var bucket: String
        public var site: Site
        public var requireTurbo: Bool
    }

    /// Who the plan's calls are made as and billed to; every generated `gcp.*` step carries it.
    public var caller: GCPCaller { GCPCaller(quotaProject: quotaProject, impersonateServiceAccount: impersonateServiceAccount) }

    public var sites: Set<Site> {
        var all = Set(databases.flatMap { [$0.primary.site] + $0.replicas.map(\.site) })
        all.formUnion(standby.keys)
        all.formUnion(transfers.map(\.site))
        all.formUnion(buckets.map(\.site))
        return all
    }

    /// The databases whose primary is in `from` with a replica in `to`, and that replica.
    public func moving(from: Site, to: Site) -> [(database: Database, replica: Instance)] {
        databases.compactMap { database in
            guard database.primary.site == from, let replica = database.replica(in: to) else { return nil }
            return (database, replica)
        }
    }

    /// A database to promote, a Cloud DNS record with values for `to`, or node pools in `to`.
    public func hasWork(from: Site, to: Site) -> Bool {
        !moving(from: from, to: to).isEmpty || records.contains { !($0.values[to] ?? []).isEmpty } || !(standby[to] ?? []).isEmpty
    }
}

extension DRPlan {
    /// The plan's `gcp:` section (empty when it has none).
    public var gcp: GCPPlanSection { section(GCPProvider.name, as: GCPPlanSection.self) ?? GCPPlanSection() }
}
