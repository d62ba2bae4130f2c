import Foundation

/// What Application Default Credentials found: a token cache over the chosen source, where it came
/// from, and the project and quota project that go with it. Never holds a token itself.
public struct GoogleCredentials: Sendable {
    public let tokens: GoogleTokenCache
    /// `GOOGLE_APPLICATION_CREDENTIALS=/k.json (service_account)`, `gcloud ADC file …`, `metadata server`,
    /// `impersonating X via …`.
    public let source: String
    /// The service account or user, when the source says without a call (key files, impersonation).
    public let principal: String?
    /// How to learn the principal with a call when `principal` is nil.
    public let principalLookup: PrincipalLookup
    public let project: String?
    /// Where `project` came from: `GOOGLE_CLOUD_PROJECT`, `project_id in the credentials file`, ….
    public let projectSource: String?
    /// Sent as `x-goog-user-project` (billing and quota of API calls).
    public let quotaProject: String?
    /// The impersonation chain the operator asked for (`--impersonate-service-account`,
    /// `CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT`): it wins over the plan's.
    public let impersonatedByOperator: String?

    public enum PrincipalLookup: Sendable, Equatable {
        case known
        /// The OAuth2 tokeninfo endpoint (user credentials).
        case tokenInfo(url: String)
        /// `instance/service-accounts/default/email` of the metadata server at this host.
        case metadataServer(host: String)
        /// A federated identity with no service account: the pool's audience says who.
        case federated(audience: String)
    }

    /// The project to call APIs for, or exit 10 (`GCPProjectMissing`) naming where drctl looked.
    public func requireProject() throws -> String {
        guard let project else { throw GCPProjectMissing() }
        return project
    }

    public init(tokens: GoogleTokenCache, source: String, principal: String?, principalLookup: PrincipalLookup,
                project: String?, projectSource: String?, quotaProject: String?, impersonatedByOperator: String? = nil) {
        self.tokens = tokens
        self.source = source
        self.principal = principal
        self.principalLookup = principalLookup
        self.project = project
        self.projectSource = projectSource
        self.quotaProject = quotaProject
        self.impersonatedByOperator = impersonatedByOperator
    }
}
