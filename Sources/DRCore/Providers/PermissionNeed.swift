/// What drctl is used for, as a set of permissions (`drctl iam policy --for`).
public enum PermissionPurpose: String, Sendable, CaseIterable, Comparable {
    /// `drctl failover`: its preflight and the generated move.
    case failover
    /// `drctl switchover`: its preflight and the generated move (catch-up instead of data loss).
    case switchover
    /// `drctl drill run` and `drctl drill cleanup`.
    case drill
    /// `drctl status`: the RPO posture, read-only.
    case status

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One permission one step of drctl needs, scoped to what that step touches: the unit a
/// least-privilege policy is built from (issue 16) and that the permission preflight simulates.
/// Every need comes from a generated runbook's step (or a preflight / status read) and the
/// permissions its action declares, never from a hand-written list.
public struct PermissionNeed: Sendable, Hashable {
    /// The provider's name (`aws`, `postgres`).
    public let provider: String
    public let purpose: PermissionPurpose
    /// The step id (`promote-orders`), or the read's name (`preflight`, `status`, `drill cleanup`).
    public let step: String
    /// The action whose declaration this comes from (`aws.rds.promote-read-replica`).
    public let action: String
    /// What to grant: an IAM action (`rds:PromoteReadReplica`), a GCP permission, or a privilege in words.
    public let permission: String
    /// What it is granted on: ARNs or ARN patterns; `["*"]` when the permission cannot be scoped
    /// to a resource; empty for permissions that have no resource language (PostgreSQL).
    public let resources: [String]
    /// Conditions drctl itself makes true (its tags on what it creates), all of which must hold.
    public let conditions: [PermissionCondition]
    public let note: String?

    public init(provider: String, purpose: PermissionPurpose, step: String, action: String, permission: String,
                resources: [String], conditions: [PermissionCondition] = [], note: String? = nil) {
        self.provider = provider
        self.purpose = purpose
        self.step = step
        self.action = action
        self.permission = permission
        self.resources = resources
        self.conditions = conditions
        self.note = note
    }
}

/// `StringEquals aws:RequestTag/drctl:plan = orders`: one condition of a permission, in the
/// provider's condition language.
public struct PermissionCondition: Sendable, Hashable, Comparable {
    public let test: String
    public let key: String
    public let values: [String]

    public init(_ test: String, _ key: String, _ values: [String]) {
        self.test = test
        self.key = key
        self.values = values
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.key, lhs.test, lhs.values.joined(separator: ",")) < (rhs.key, rhs.test, rhs.values.joined(separator: ","))
    }
}

/// What a provider is asked for: the permissions of `purpose` on `plan`, for the generated runbooks
/// given (every provider's steps, as `MoveComposer` / `DrillComposer` wrote them).
public struct PermissionRequest: Sendable {
    /// The run id drills are composed for: names and tag values that carry it stand for any run's
    /// (`drill-<plan>-<db>-*`, `run-*`).
    public static let placeholderRunId = "run-00000000-000000-zq9zq9"

    public let purpose: PermissionPurpose
    public let plan: DRPlan
    /// The moves and their generated runbooks (failover, switchover).
    public let moves: [(move: Move, runbook: Runbook)]
    /// The drills and their generated runbooks, composed for `placeholderRunId` (drill).
    public let drills: [(site: Site, runbook: Runbook)]
    /// The account resources live in, when the provider's resource names carry one (AWS ARNs).
    public let account: String

    public init(purpose: PermissionPurpose, plan: DRPlan, moves: [(move: Move, runbook: Runbook)] = [],
                drills: [(site: Site, runbook: Runbook)] = [], account: String) {
        self.purpose = purpose
        self.plan = plan
        self.moves = moves
        self.drills = drills
        self.account = account
    }
}

extension DRProvider {
    /// Without resource scoping: each of this provider's steps in the request's runbooks needs
    /// every permission its action declares, on no particular resource. Providers with a
    /// resource language (AWS ARNs) override this with scoped needs and add their reads.
    public func permissionNeeds(_ request: PermissionRequest) throws -> [PermissionNeed] {
        let mine = Dictionary(actions().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return (request.moves.map(\.runbook) + request.drills.map(\.runbook)).flatMap { runbook in
            runbook.steps.flatMap { step -> [PermissionNeed] in
                guard let action = mine[step.call.action] else { return [] }
                return action.permissions.map {
                    PermissionNeed(provider: name, purpose: request.purpose, step: step.id, action: action.name, permission: $0.name,
                                   resources: [], note: $0.note)
                }
            }
        }
    }
}
