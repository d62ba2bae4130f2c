import DRCore
import Foundation

/// Who drctl acts as on Google Cloud, as `drctl whoami --cloud gcp` shows it. Found with a real
/// token (so a wrong key fails here, not in the middle of a failover); holds no secret.
public struct GCPIdentity: Sendable, Equatable, Encodable {
    public let principal: String
    public let project: String?
    public let projectSource: String?
    public let quotaProject: String?
    public let credentialSource: String

    /// Obtains a token for `scopes`, then names the principal: from the credentials when they say
    /// (key files, impersonation), else the metadata server's account email, else tokeninfo.
    public static func identify(_ credentials: GoogleCredentials, transport: any HTTPTransport,
                                scopes: [String] = [GoogleScopes.cloudPlatform]) async throws -> GCPIdentity {
        let token = try await credentials.tokens.token(scopes: scopes)
        let principal: String
        switch credentials.principalLookup {
        case .known:
            principal = credentials.principal ?? "unknown"
        case .metadataServer(let host):
            let server = MetadataServer(environment: ["GCE_METADATA_HOST": host], transport: transport)
            principal = (try? await server.get("instance/service-accounts/default/email")) ?? "default service account (email not available)"
        case .tokenInfo(let url):
            principal = await tokenInfoEmail(token, url: url, transport: transport)
        case .federated(let audience):
            principal = "federated identity of \(audience)"
        }
        return GCPIdentity(principal: principal, project: credentials.project, projectSource: credentials.projectSource,
                           quotaProject: credentials.quotaProject, credentialSource: credentials.source)
    }

    /// The OAuth2 tokeninfo endpoint (`https://oauth2.googleapis.com/tokeninfo`), with the token in
    /// a POST body — never in a URL, where proxies and logs keep it.
    static func tokenInfoEmail(_ token: GoogleAccessToken, url: String, transport: any HTTPTransport) async -> String {
        let request = HTTPRequest(method: "POST", url: url, headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                  body: FormEncoding.encode([("access_token", token.value)]),
                                  timeouts: HTTPTimeouts(connect: .seconds(5), total: .seconds(10)))
        guard let response = try? await transport.send(request) else { return "user (tokeninfo unreachable)" }
        guard response.status == 200, let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let email = object["email"] as? String, !email.isEmpty else {
            return "user (email not available: tokeninfo HTTP \(response.status))"
        }
        return email
    }

    public init(principal: String, project: String?, projectSource: String?, quotaProject: String?, credentialSource: String) {
        self.principal = principal
        self.project = project
        self.projectSource = projectSource
        self.quotaProject = quotaProject
        self.credentialSource = credentialSource
    }

    /// As one identity of the provider seam (`DRProvider.identities`).
    public var facts: [ProviderIdentity.Fact] {
        var facts = [ProviderIdentity.Fact("principal", principal)]
        facts.append(.init("project", project.map { p in projectSource.map { "\(p) (from \($0))" } ?? p } ?? "none (set GOOGLE_CLOUD_PROJECT)"))
        if let quotaProject { facts.append(.init("quota project", quotaProject)) }
        facts.append(.init("credentials", credentialSource))
        return facts
    }
}
