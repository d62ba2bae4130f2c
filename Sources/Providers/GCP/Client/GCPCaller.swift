import DRCore
import Foundation

/// Who a `gcp.*` call is made as and who it is billed to: the plan's `gcp.impersonate_service_account`
/// and `gcp.quota_project`. The generated steps carry them as arguments (`impersonate_service_account`,
/// `quota_project`), so a run resumed from its journaled runbook — which has no plan — makes its
/// calls as the run it continues did. `GCPCallerScopedAction` binds them to `current` around each
/// step's observe / act / verify; `GCPClientSource` hands out the client for `current` (one token
/// cache per impersonated account), so every call inside the step, coalesced reads included,
/// carries them without each service client passing them along.
public struct GCPCaller: Sendable, Hashable, CustomStringConvertible {
    /// Sent as `x-goog-user-project` instead of what the credentials name.
    public var quotaProject: String?
    /// The service account the calls act as (`iamcredentials.generateAccessToken` with the
    /// credentials' own token), unless the operator named one (`--impersonate-service-account`,
    /// `CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT`): the operator's choice for this command wins.
    public var impersonateServiceAccount: String?

    public init(quotaProject: String? = nil, impersonateServiceAccount: String? = nil) {
        self.quotaProject = quotaProject
        self.impersonateServiceAccount = impersonateServiceAccount
    }

    /// The caller of the calls the current task makes: Application Default Credentials as they are unless bound.
    @TaskLocal public static var current = GCPCaller()

    public static let quotaProjectKey = "quota_project"
    public static let impersonateKey = "impersonate_service_account"

    /// The arguments a generated step carries (none for a plan that sets neither).
    public var arguments: [String: RunValue] {
        var arguments: [String: RunValue] = [:]
        if let quotaProject { arguments[Self.quotaProjectKey] = .string(quotaProject) }
        if let impersonateServiceAccount { arguments[Self.impersonateKey] = .string(impersonateServiceAccount) }
        return arguments
    }

    /// The step's caller: what its arguments name, else `base` (a provider's read made for a plan
    /// binds the plan's caller and passes no arguments).
    init(_ arguments: [String: RunValue], base: GCPCaller) throws {
        let values = GCPArguments(values: arguments)
        self.init(quotaProject: try values.optionalString(Self.quotaProjectKey) == nil ? base.quotaProject : values.name(Self.quotaProjectKey),
                  impersonateServiceAccount: try values.optionalString(Self.impersonateKey).map { text in
                      guard Self.isServiceAccount(text) else { throw values.invalid(Self.impersonateKey, "a service account email, found '\(text.prefix(80))'") }
                      return text
                  } ?? base.impersonateServiceAccount)
    }

    static func isServiceAccount(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && text.count <= 254
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.@".contains($0)) }
    }

    static let parameters: [ActionCatalog.Parameter] = [
        ActionCatalog.Parameter(quotaProjectKey, .string, help: "the project billed for the calls (x-goog-user-project); the plan's gcp.quota_project",
                                check: GCPActions.resourceName),
        ActionCatalog.Parameter(impersonateKey, .string,
                                help: "the service account the calls act as, unless --impersonate-service-account names one; the plan's gcp.impersonate_service_account",
                                check: .init(.pattern("[A-Za-z0-9._-]+@[A-Za-z0-9.-]+\\.[A-Za-z0-9.-]+"), expected: "a service account email")),
    ]

    public var description: String {
        [impersonateServiceAccount.map { "as \($0)" }, quotaProject.map { "billed to \($0)" }].compactMap { $0 }.joined(separator: ", ")
    }
}
