import AWSProvider
import AzureProvider
import DRCore
import Foundation
import GCPProvider
import PostgresProvider

/// The providers this build has, one line each: its plan section, and how it is made from the
/// command's options once credentials are needed. Adding a cloud adds its line here; nothing in
/// DRCore's engine, store or reports changes (README, "Adding a provider").
struct ProviderRegistration {
    let section: any PlanSectionKind
    /// nil: the provider has no runtime part yet (its sites can be named, its section is refused).
    let make: @Sendable (ProviderContext) -> (any DRProvider)?

    static let all: [ProviderRegistration] = [
        .init(section: AWSPlanSectionKind()) { AWSCloudProvider(client: $0.awsClient) },
        .init(section: PostgresPlanSectionKind()) { _ in PostgresProvider() },
        .init(section: GCPPlanSectionKind()) { GCPCloudProvider(environment: $0.environment, impersonate: $0.gcpImpersonation) },
        .init(section: AzurePlanSectionKind()) { _ in nil },
    ]

    /// The plan sections of every provider, for `DRPlanLoader`.
    static var sections: [any PlanSectionKind] { all.map(\.section) }

    /// Every provider with a runtime part, in registration order.
    static func providers(_ context: ProviderContext) -> [any DRProvider] { all.compactMap { $0.make(context) } }

    /// Every provider's roles of actions in a move's summary (declarations only: nothing is called).
    static let summaryRoles: [String: MoveSummaryRole] = providers(.declarationsOnly).reduce(into: [:]) { roles, provider in
        roles.merge(provider.summaryRoles) { first, _ in first }
    }
}

/// What providers are made from: each cloud's client, built from the command's options.
struct ProviderContext: Sendable {
    /// AWS's signed client; one whose every call fails as unauthenticated when AWS is not
    /// configured and the command only needs the actions' declarations.
    let awsClient: AWSClient
    /// What Google's Application Default Credentials read (`GOOGLE_APPLICATION_CREDENTIALS` …).
    var environment: [String: String] = ProcessInfo.processInfo.environment
    /// `--impersonate-service-account` (else `CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT` applies).
    var gcpImpersonation: String?

    /// For commands that call AWS: a configuration error (no region, a malformed config file) is the command's error.
    init(aws: AWSContext) { awsClient = aws.client }

    /// For commands that only need the providers' declarations (validate, plan, actions).
    static var declarationsOnly: ProviderContext {
        if let aws = try? AWSContext(profile: nil, region: nil) { return ProviderContext(aws: aws) }
        return ProviderContext(awsClient: AWSClient(transport: CurlTransport(), credentials: UnavailableCredentials(), endpoints: StaticEndpointResolver()))
    }

    private init(awsClient: AWSClient) { self.awsClient = awsClient }
}
