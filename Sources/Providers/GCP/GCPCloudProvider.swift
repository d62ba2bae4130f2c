import DRCore
import Foundation

/// Google Cloud behind the provider seam: its identity (`drctl whoami --cloud gcp`), its `gcp.*`
/// actions, and its steps of a plan's moves (`GCPMoveSteps`) and drills (`GCPDrillPart`).
public struct GCPCloudProvider: DRProvider {
    public var name: String { GCPProvider.name }
    let environment: [String: String]
    /// `--impersonate-service-account` (else `CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT`).
    let impersonate: String?
    /// Made when first needed: building the provider for its declarations must not start a transport.
    let makeTransport: @Sendable () -> any HTTPTransport
    /// The `gcp.*` actions, sharing one client made on their first call (credentials are resolved then, not here).
    private let registered: [any RunbookAction]
    /// That client's source, for the provider's own reads (posture).
    let source: GCPClientSource

    public init(environment: [String: String], impersonate: String? = nil,
                makeTransport: @escaping @Sendable () -> any HTTPTransport = { CurlTransport() }) {
        self.environment = environment
        self.impersonate = impersonate
        self.makeTransport = makeTransport
        source = GCPClientSource { [environment, impersonate] in
            let transport = makeTransport()
            let endpoints = try GCPEndpoints(environment: environment)
            let credentials = try await ApplicationDefaultCredentials(environment: environment, transport: transport, endpoints: endpoints,
                                                                      impersonate: impersonate).resolve()
            return GCPClient(transport: transport, credentials: credentials, endpoints: endpoints)
        }
        registered = GCPActions.all(source: source)
    }

    public func actions() -> [any RunbookAction] { registered }
    public func moveSteps(_ move: Move, plan: DRPlan, ids: inout StepIdentifiers) throws -> [MoveStep] {
        try GCPMoveSteps(plan: plan, move: move).steps(ids: &ids)
    }
    public func posture(plan: DRPlan, now: Date) async -> [ProtectedResourcePosture] {
        await GCPCaller.$current.withValue(plan.gcp.caller) {
            await GCPRecoveryPointProbe(plan: plan, sql: CloudSQLClient(source: source), actions: registered, now: now).measure()
        }
    }
    public func drillPart(plan: DRPlan, site: Site, runId: String, ids: inout StepIdentifiers) throws -> DrillPart {
        try GCPDrillPart.make(plan: plan, site: site, runId: runId, ids: &ids)
    }
    public var summaryRoles: [String: MoveSummaryRole] {
        ["gcp.sql.fence": .fence, "gcp.sql.promote-replica": .promotion, "gcp.sql.switchover": .promotion, "gcp.dns.set-record": .traffic]
    }

    /// One identity: Application Default Credentials (they do not depend on the plan).
    public func identities(plan: DRPlan) async -> [ProviderIdentity] {
        do {
            return [ProviderIdentity(endpoint: Self.endpointName, facts: try await identity(as: plan.gcp.caller).facts)]
        } catch {
            return [ProviderIdentity(endpoint: Self.endpointName, facts: [], error: "\(error)")]
        }
    }

    static let endpointName = "Application Default Credentials"

    /// Who drctl is — as `caller` (a plan's impersonation and quota project) — with a real token;
    /// throws the typed error (exit 8, 9 or 10 at the CLI's edge).
    public func identity(as caller: GCPCaller = GCPCaller()) async throws -> GCPIdentity {
        let transport = makeTransport()
        let endpoints = try GCPEndpoints(environment: environment)
        let credentials = try await ApplicationDefaultCredentials(environment: environment, transport: transport, endpoints: endpoints,
                                                                  impersonate: impersonate).resolve()
        let acting = caller == GCPCaller() ? credentials
            : GCPClient(transport: transport, credentials: credentials, endpoints: endpoints).acting(as: caller).credentials
        return try await GCPIdentity.identify(acting, transport: transport)
    }
}
