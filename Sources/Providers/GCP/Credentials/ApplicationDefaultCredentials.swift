import DRCore
import Foundation

/// Application Default Credentials in google-auth's order (`google/auth/_default.py`, `default()`):
/// 1. `GOOGLE_APPLICATION_CREDENTIALS` — a file, by its `type`; set but unusable is an error, not a
///    reason to try the next source (a wrong path must not fall through to another identity);
/// 2. gcloud's ADC file, `$CLOUDSDK_CONFIG/application_default_credentials.json` or
///    `~/.config/gcloud/application_default_credentials.json`;
/// 3. the metadata server (GCE, GKE, Cloud Run), when one answers the probe.
/// Then, on any of them, service-account impersonation when asked (`--impersonate-service-account`,
/// `CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT`; a comma-separated chain ends with the target, the
/// others are delegates, as in gcloud).
public struct ApplicationDefaultCredentials: Sendable {
    let environment: [String: String]
    let transport: any HTTPTransport
    let endpoints: GCPEndpoints
    let impersonate: String?
    let now: @Sendable () -> Date

    public init(environment: [String: String], transport: any HTTPTransport, endpoints: GCPEndpoints,
                impersonate: String? = nil, now: @escaping @Sendable () -> Date = { Date() }) {
        self.environment = environment
        self.transport = transport
        self.endpoints = endpoints
        self.impersonate = impersonate
        self.now = now
    }

    private func value(_ name: String) -> String? {
        environment[name].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
    }

    /// gcloud's configuration directory's ADC file (google-auth `_cloud_sdk.get_application_default_credentials_path`).
    var gcloudADCPath: String? {
        if let config = value("CLOUDSDK_CONFIG") { return config + "/application_default_credentials.json" }
        guard let home = value("HOME") else { return nil }
        return home + "/.config/gcloud/application_default_credentials.json"
    }

    public func resolve() async throws -> GoogleCredentials {
        let endpoint = TokenEndpoint(transport: transport)
        var found: Found
        var attempts: [GoogleAuthError] = []
        if let path = value("GOOGLE_APPLICATION_CREDENTIALS") {
            let file = try GoogleCredentialFile.read(path: path)
            found = try make(file, sourceName: "GOOGLE_APPLICATION_CREDENTIALS=\(path) (\(file.typeName))", endpoint: endpoint)
        } else {
            attempts.append(.init(kind: .notFound, source: "GOOGLE_APPLICATION_CREDENTIALS", message: "not set"))
            if let path = gcloudADCPath, FileManager.default.fileExists(atPath: path) {
                let file = try GoogleCredentialFile.read(path: path)
                found = try make(file, sourceName: "gcloud ADC file \(path) (\(file.typeName))", endpoint: endpoint)
            } else {
                attempts.append(.init(kind: .notFound, source: "gcloud ADC file", message: "\(gcloudADCPath ?? "$HOME unset") does not exist"))
                let server = MetadataServer(environment: environment, transport: transport)
                if MetadataServer.isDisabled(environment) {
                    attempts.append(.init(kind: .notFound, source: "metadata server", message: "skipped (NO_GCE_CHECK)"))
                    throw noCredentials(attempts)
                }
                guard await server.isAvailable() else {
                    attempts.append(.init(kind: .notFound, source: "metadata server", message: "nothing answers at \(server.host)"))
                    throw noCredentials(attempts)
                }
                found = Found(source: MetadataServerTokenSource(server: server, endpoint: endpoint, now: now),
                              description: "metadata server (\(server.host))", principal: nil, lookup: .metadataServer(host: server.host),
                              projectId: try? await server.get("project/project-id"), quotaProjectId: nil)
            }
        }
        // The option wins over the variable, as gcloud's flag wins over its property.
        let chain = impersonate.flatMap({ $0.isEmpty ? nil : $0 }) ?? value("CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT")
        if let chain {
            found = try impersonating(chain, base: found, endpoint: endpoint)
        }
        let (project, projectSource) = projectOf(found)
        return GoogleCredentials(tokens: GoogleTokenCache(source: found.source, now: now), source: found.description,
                                 principal: found.principal, principalLookup: found.lookup,
                                 project: project, projectSource: projectSource,
                                 quotaProject: value("GOOGLE_CLOUD_QUOTA_PROJECT") ?? found.quotaProjectId, impersonatedByOperator: chain)
    }

    private func noCredentials(_ attempts: [GoogleAuthError]) -> GoogleAuthError {
        GoogleAuthError(kind: .notFound, source: "Application Default Credentials",
                        message: "no Google credentials found; tried:", attempts: attempts)
    }

    struct Found {
        let source: any GoogleTokenSource
        let description: String
        let principal: String?
        let lookup: GoogleCredentials.PrincipalLookup
        let projectId: String?
        let quotaProjectId: String?

        var isMetadataServer: Bool {
            if case .metadataServer = lookup { return true }
            return false
        }
    }

    func make(_ file: GoogleCredentialFile, sourceName: String, endpoint: TokenEndpoint) throws -> Found {
        switch file {
        case .serviceAccount(let key):
            return Found(source: ServiceAccountTokenSource(key: key, endpoint: endpoint, sourceName: sourceName, now: now),
                         description: sourceName, principal: key.clientEmail, lookup: .known,
                         projectId: key.projectId, quotaProjectId: key.quotaProjectId)
        case .authorizedUser(let user):
            let oauth2 = endpoints.root(for: .oauth2)
            return Found(source: AuthorizedUserTokenSource(user: user, tokenURI: oauth2 + "token", endpoint: endpoint, sourceName: sourceName, now: now),
                         description: sourceName, principal: user.account, lookup: user.account == nil ? .tokenInfo(url: oauth2 + "tokeninfo") : .known,
                         projectId: nil, quotaProjectId: user.quotaProjectId)
        case .externalAccount(let configuration):
            return Found(source: ExternalAccountTokenSource(configuration: configuration, endpoint: endpoint, sourceName: sourceName,
                                                                   environment: environment, now: now),
                         description: sourceName, principal: configuration.impersonatedPrincipal,
                         lookup: configuration.impersonatedPrincipal == nil ? .federated(audience: configuration.audience) : .known,
                         projectId: nil, quotaProjectId: configuration.quotaProjectId)
        case .impersonatedServiceAccount(let configuration):
            let base = try make(configuration.source, sourceName: sourceName, endpoint: endpoint)
            let source = ImpersonatedTokenSource(targetPrincipal: configuration.targetPrincipal, url: configuration.impersonationURL,
                                                 delegates: configuration.delegates, base: base.source, endpoint: endpoint, sourceName: sourceName)
            return Found(source: source, description: sourceName, principal: configuration.targetPrincipal, lookup: .known,
                         projectId: nil, quotaProjectId: configuration.quotaProjectId ?? base.quotaProjectId)
        }
    }

    private func impersonating(_ chain: String, base: Found, endpoint: TokenEndpoint) throws -> Found {
        let accounts = chain.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let target = accounts.last, accounts.allSatisfy({ $0.contains("@") }) else {
            throw GoogleAuthError(kind: .invalidConfiguration, source: "impersonation",
                                  message: "expected service account emails (a comma-separated chain ends with the target), found '\(chain.prefix(80))'")
        }
        let url = ServiceAccountImpersonation.url(root: endpoints.root(for: .iamcredentials), principal: target)
        let description = "impersonating \(target) via \(base.description)"
        let source = ImpersonatedTokenSource(targetPrincipal: target, url: url, delegates: Array(accounts.dropLast()),
                                             base: base.source, endpoint: endpoint, sourceName: description)
        return Found(source: source, description: description, principal: target, lookup: .known,
                     projectId: base.projectId, quotaProjectId: base.quotaProjectId)
    }

    /// `GOOGLE_CLOUD_PROJECT` (or the legacy `GCLOUD_PROJECT`), else what the credentials say.
    private func projectOf(_ found: Found) -> (String?, String?) {
        if let project = value("GOOGLE_CLOUD_PROJECT") { return (project, "GOOGLE_CLOUD_PROJECT") }
        if let project = value("GCLOUD_PROJECT") { return (project, "GCLOUD_PROJECT") }
        if let project = found.projectId {
            return (project, found.isMetadataServer ? "metadata server project/project-id" : "project_id in the credentials file")
        }
        if let project = found.quotaProjectId { return (project, "quota_project_id in the credentials file") }
        return (nil, nil)
    }
}
