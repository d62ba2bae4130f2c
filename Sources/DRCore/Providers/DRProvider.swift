import Foundation

/// One cloud (or self-managed system) behind drctl's one seam, with whatever it needs to call it
/// (credentials, clients) already in hand. A provider brings:
/// - its plan section (`PlanSectionKind`, decoded before any credentials are read);
/// - its actions (`drctl actions` lists them; runbooks name them);
/// - its read-only preflight for a move, with the data-loss signals the RPO gate weighs;
/// - its steps of the generated failover / switchover runbooks, each in a shared `MovePhase`;
/// - its posture probes for `drctl status`;
/// - what its actions are to a move's summary (`summaryRoles`);
/// - the permissions a purpose needs, scoped to the plan's resources (`permissionNeeds`).
/// DRCore composes them (`MoveComposer`, `MovePreflight`) and knows no cloud; the executable
/// registers each provider in one line.
public protocol DRProvider: Sendable {
    /// The provider's plan key and action prefix (`aws`, `postgres`).
    var name: String { get }
    func actions() -> [any RunbookAction]
    /// Fills in what the plan leaves to be looked up before a runbook can be written (AWS: hosted
    /// zone ids of records named by zone name). Returns the plan and warnings for the preflight.
    /// A lookup that cannot be made now must not stop the move when the step can make it later.
    func prepare(_ move: Move, plan: DRPlan) async throws -> (plan: DRPlan, warnings: [PreflightCheck])
    /// The read-only checks of a move: can it act where it is going, do the resources it will change
    /// exist, how much data would be lost. Never changes anything.
    func preflight(_ move: Move, plan: DRPlan) async -> PreflightFindings
    /// This provider's steps of the generated runbook for `move` (ids unique through `ids`).
    func moveSteps(_ move: Move, plan: DRPlan, ids: inout StepIdentifiers) throws -> [MoveStep]
    /// How old the newest restorable point of each protected resource is, in the plan's first DR site.
    func posture(plan: DRPlan, now: Date) async -> [ProtectedResourcePosture]
    /// Its part of a drill in `site`: copies of its databases there, and their deletion
    /// (`DrillComposer` adds the checks, the RPO measurement and the cost guard). Throws
    /// `DrillProblem` when its own cost guard refuses (an instance size over the plan's maximum).
    func drillPart(plan: DRPlan, site: Site, runId: String, ids: inout StepIdentifiers) throws -> DrillPart
    /// Who drctl acts as at each endpoint of the plan this provider reaches (`drctl whoami --cloud NAME`):
    /// one identity per endpoint, an unreachable one with its error. Read-only, never a secret.
    func identities(plan: DRPlan) async -> [ProviderIdentity]
    /// Its actions that a move's summary reports by role, by action name. The summary reads the
    /// run's journal and runbook only (a plan's own runbook, a resumed run), so roles go by action.
    var summaryRoles: [String: MoveSummaryRole] { get }
    /// The permissions its steps and reads need for a purpose, scoped to the plan's resources
    /// (`drctl iam policy`, the permission preflight). Default: each step's declared permissions, unscoped.
    func permissionNeeds(_ request: PermissionRequest) throws -> [PermissionNeed]
    /// Whether the caller holds what `runbook` (the move's, once written) needs, where the cloud
    /// can tell without acting (AWS: IAM's policy simulator): checks for the preflight, never
    /// blocking (a simulation can be wrong), saying so when it could not be made.
    func permissionChecks(_ move: Move, plan: DRPlan, runbook: Runbook) async -> [PreflightCheck]
}

/// Who drctl is at one endpoint of a provider, as `drctl whoami --cloud NAME` prints it.
public struct ProviderIdentity: Sendable, Equatable, Encodable {
    /// What was asked: `$LEDGER_PRIMARY_URL (us-east-1)`.
    public let endpoint: String
    /// Name → value, in order (`user`, `server`, `role` …); empty when `error` says why.
    public let facts: [Fact]
    public let error: String?
    /// What kind of failure `error` is: the credentials (missing, rejected) or the endpoint
    /// (unreachable, timed out). `whoami` exits 8 for the one, 9 for the other.
    public let failure: Failure?

    public enum Failure: String, Sendable, Equatable, Encodable {
        case credentials, unreachable
    }

    public struct Fact: Sendable, Equatable, Encodable {
        public let name: String
        public let value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(endpoint: String, facts: [Fact], error: String? = nil, failure: Failure? = nil) {
        self.endpoint = endpoint
        self.facts = facts
        self.error = error
        self.failure = error == nil ? nil : failure ?? .credentials
    }
}

/// What a step is to a move's summary: a fence is reported confirmed or not; the move counts as
/// made (and its RTO measured) only when every promotion and traffic step succeeded.
public enum MoveSummaryRole: Sendable, Equatable {
    case fence, promotion, traffic
}

extension DRProvider {
    public func prepare(_ move: Move, plan: DRPlan) async throws -> (plan: DRPlan, warnings: [PreflightCheck]) { (plan, []) }
    public func posture(plan: DRPlan, now: Date) async -> [ProtectedResourcePosture] { [] }
    public func drillPart(plan: DRPlan, site: Site, runId: String, ids: inout StepIdentifiers) throws -> DrillPart { DrillPart() }
    public func identities(plan: DRPlan) async -> [ProviderIdentity] { [] }
    public var summaryRoles: [String: MoveSummaryRole] { [:] }
    public func permissionChecks(_ move: Move, plan: DRPlan, runbook: Runbook) async -> [PreflightCheck] { [] }
}

/// A failover or switchover of a plan from one site to another.
public struct Move: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Unplanned: the old site may be gone; fencing is best effort, data loss is bounded by the RPO gate.
        case failover
        /// Planned, no data loss: fence first, wait until every replica has caught up, then promote.
        case switchover
    }

    public let kind: Kind
    public let from: Site
    public let to: Site

    public init(kind: Kind, from: Site, to: Site) {
        self.kind = kind
        self.from = from
        self.to = to
    }
}

/// One read-only check of a preflight, as the operator sees it.
public struct PreflightCheck: Sendable, Equatable, Encodable {
    public let name: String
    public let ok: Bool
    public let detail: String
    /// A failed blocking check stops the move; others are warnings.
    public let blocking: Bool

    public init(name: String, ok: Bool, detail: String, blocking: Bool) {
        self.name = name
        self.ok = ok
        self.detail = detail
        self.blocking = blocking
    }
}

/// What one provider's preflight found: its checks in plan order, and the data-loss signals the
/// RPO gate weighs (seconds of data the move would lose, or why that is unknown).
public struct PreflightFindings: Sendable, Equatable {
    public var checks: [PreflightCheck] = []
    public var losses: [Double] = []
    public var unknownLossReasons: [String] = []

    public init(checks: [PreflightCheck] = [], losses: [Double] = [], unknownLossReasons: [String] = []) {
        self.checks = checks
        self.losses = losses
        self.unknownLossReasons = unknownLossReasons
    }
}

/// A resource of the plan that a move needs cannot be reached with what this machine has: its
/// provider's credentials (or the environment variable naming its URL) are missing. Found before
/// anything changes; the CLI ends with exit 8 (authentication failed).
public struct ProviderCredentialsMissing: Error, CustomStringConvertible, Sendable {
    public let provider: String
    /// What is missing, by name only (never a value).
    public let missing: [String]

    public init(provider: String, missing: [String]) {
        self.provider = provider
        self.missing = missing
    }

    public var description: String { "no credentials for \(provider) resources of this move: " + missing.joined(separator: "; ") }
}
