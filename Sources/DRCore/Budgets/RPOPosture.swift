import Foundation

/// Where a protected resource stands against the RPO budget.
public enum RPOBudgetState: String, Sendable, Codable, Comparable, CaseIterable {
    /// Below half the budget.
    case ok
    /// From half the budget up to the budget.
    case warning
    /// Above the budget, or unknown: a recovery point nobody can show does not count.
    case breach

    public init(rpoSeconds: Double?, budgetSeconds: Double) {
        guard let rpoSeconds, rpoSeconds.isFinite else { self = .breach; return }
        if rpoSeconds > budgetSeconds {
            self = .breach
        } else if rpoSeconds >= budgetSeconds / 2 {
            self = .warning
        } else {
            self = .ok
        }
    }

    private var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (lhs: RPOBudgetState, rhs: RPOBudgetState) -> Bool { lhs.rank < rhs.rank }
}

/// One way a resource can be recovered in the DR region, and how old that recovery point is.
public struct RecoveryPointAge: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// CloudWatch `ReplicaLag` of a cross-region read replica.
        case replicaLag = "replica-lag"
        /// Age of the newest available snapshot copy in the DR region.
        case snapshotCopy = "snapshot-copy"
        /// Age of the oldest object still pending replication (0 when nothing is pending).
        case replicationBacklog = "replication-backlog"
        /// Age of the newest successful backup (Cloud SQL backup runs).
        case backup
        /// Age of the newest successful run of a copy job (Storage Transfer Service).
        case transfer
    }

    public var kind: Kind
    /// What was measured: the replica, the snapshot copy, the bucket pair.
    public var source: String
    /// Seconds of data that would be lost by recovering from this point now; nil when unknown.
    public var seconds: Double?
    public var detail: String

    public init(kind: Kind, source: String, seconds: Double?, detail: String) {
        self.kind = kind
        self.source = source
        self.seconds = seconds
        self.detail = detail
    }
}

/// A protected resource of the plan (a database, a bucket pair) and its recovery points.
public struct ProtectedResourcePosture: Sendable, Codable, Equatable {
    public var name: String
    /// "database" | "bucket"
    public var type: String
    public var recoveryPoints: [RecoveryPointAge]

    public init(name: String, type: String, recoveryPoints: [RecoveryPointAge]) {
        self.name = name
        self.type = type
        self.recoveryPoints = recoveryPoints
    }

    /// The RPO now: the age of the newest restorable point, whichever way it is restored.
    public var rpoSeconds: Double? { recoveryPoints.compactMap(\.seconds).min() }

    public func state(budgetSeconds: Double) -> RPOBudgetState { RPOBudgetState(rpoSeconds: rpoSeconds, budgetSeconds: budgetSeconds) }
}

/// The RPO posture of a plan at one instant: every protected resource against the budget, the
/// last drill, and who holds the plan's lock.
public struct RPOPosture: Sendable, Equatable {
    public struct Drill: Sendable, Equatable {
        public var runId: String
        public var status: RunStatus
        public var startedAt: Date
        public var finishedAt: Date

        public init(runId: String, status: RunStatus, startedAt: Date, finishedAt: Date) {
            self.runId = runId
            self.status = status
            self.startedAt = startedAt
            self.finishedAt = finishedAt
        }

        public init(_ record: RunRecord) {
            self.init(runId: record.id, status: record.status, startedAt: record.createdAt, finishedAt: record.updatedAt)
        }
    }

    public var plan: String
    public var budgetSeconds: Double
    public var generatedAt: Date
    public var resources: [ProtectedResourcePosture]
    public var lastDrill: Drill?
    public var lastSuccessfulDrill: Drill?
    /// Who holds the plan's lock `plan:NAME` (a failover, switchover, failback or reprotect).
    public var lockHolder: LeaseHolder?
    /// Who holds the plan's drill lock `drill:NAME`. Reported beside, not folded into, the plan
    /// lock: they are different locks — a drill never blocks a failover (an incident must not
    /// wait for a drill), and two drills of a plan never overlap.
    public var drillLockHolder: LeaseHolder?

    /// The scopes of the two locks, as `drctl runs` and the journal name them.
    public static func planLockScope(_ plan: String) -> String { "plan:\(plan)" }
    public static func drillLockScope(_ plan: String) -> String { "drill:\(plan)" }

    public init(plan: String, budgetSeconds: Double, generatedAt: Date, resources: [ProtectedResourcePosture],
                lastDrill: Drill? = nil, lastSuccessfulDrill: Drill? = nil, lockHolder: LeaseHolder? = nil,
                drillLockHolder: LeaseHolder? = nil) {
        self.plan = plan
        self.budgetSeconds = budgetSeconds
        self.generatedAt = generatedAt
        self.resources = resources
        self.lastDrill = lastDrill
        self.lastSuccessfulDrill = lastSuccessfulDrill
        self.lockHolder = lockHolder
        self.drillLockHolder = drillLockHolder
    }

    /// The worst state of any resource (ok for a plan that protects nothing).
    public var state: RPOBudgetState { resources.map { $0.state(budgetSeconds: budgetSeconds) }.max() ?? .ok }
}
