import DRCore
import Foundation

/// Workload identity federation: reads the subject token where the configuration says, exchanges
/// it at STS (RFC 8693 token exchange, as google-auth's `sts.Client.exchange_token` forms it), and —
/// when the configuration names one — impersonates a service account with the STS token.
public struct ExternalAccountTokenSource: GoogleTokenSource {
    static let grantType = "urn:ietf:params:oauth:grant-type:token-exchange"
    static let requestedTokenType = "urn:ietf:params:oauth:token-type:access_token"

    let configuration: ExternalAccountConfiguration
    let endpoint: TokenEndpoint
    let sourceName: String
    let now: @Sendable () -> Date

    init(configuration: ExternalAccountConfiguration, endpoint: TokenEndpoint, sourceName: String,
         now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.endpoint = endpoint
        self.sourceName = sourceName
        self.now = now
    }

    public func token(scopes: [String]) async throws -> GoogleAccessToken {
        guard let url = configuration.impersonationURL, let principal = configuration.impersonatedPrincipal else {
            return try await exchange(scopes: scopes)
        }
        let stsToken = STSExchange(source: self)
        return try await ImpersonatedTokenSource(targetPrincipal: principal, url: url, delegates: [],
                                                 lifetimeSeconds: configuration.impersonationLifetimeSeconds ?? 3600,
                                                 base: stsToken, endpoint: endpoint, sourceName: sourceName).token(scopes: scopes)
    }

    /// The STS token alone, as the base of an impersonation (which asks for cloud-platform).
    private struct STSExchange: GoogleTokenSource {
        let source: ExternalAccountTokenSource
        func token(scopes: [String]) async throws -> GoogleAccessToken { try await source.exchange(scopes: scopes) }
    }

    func exchange(scopes: [String]) async throws -> GoogleAccessToken {
        let subjectToken = try await readSubjectToken()
        var form = [("grant_type", Self.grantType), ("audience", configuration.audience)]
        if !scopes.isEmpty { form.append(("scope", scopes.joined(separator: " "))) }
        form += [("requested_token_type", Self.requestedTokenType), ("subject_token", subjectToken),
                 ("subject_token_type", configuration.subjectTokenType)]
        var secrets = [subjectToken]
        var headers: HTTPHeaders = ["Content-Type": "application/x-www-form-urlencoded"]
        if let clientId = configuration.clientId, let secret = configuration.clientSecret {
            // RFC 6749 §2.3.1 client authentication (google-auth `utils.ClientAuthentication`, basic).
            headers.add("Authorization", "Basic " + Data("\(clientId):\(secret)".utf8).base64EncodedString())
            secrets.append(secret)
        } else if let userProject = configuration.workforcePoolUserProject {
            let options = JSONText.object([("userProject", JSONText.string(userProject))])
            // google-auth: `urllib.parse.quote(json.dumps(options))`, then form-encoded again.
            let quoteSafe = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_.-~/"))
            form.append(("options", options.addingPercentEncoding(withAllowedCharacters: quoteSafe) ?? options))
        }
        let issued = now()
        let request = HTTPRequest(method: "POST", url: configuration.tokenURL, headers: headers, body: FormEncoding.encode(form))
        let object = try await endpoint.call(request, source: sourceName, what: "the STS token exchange at \(RedactedURL.describe(configuration.tokenURL))",
                                             secrets: secrets)
        return try TokenEndpoint.oauthToken(object, source: sourceName, now: issued)
    }

    /// google-auth `identity_pool.Credentials.retrieve_subject_token`: read, then pick the field.
    func readSubjectToken() async throws -> String {
        let raw: [UInt8]
        let origin: String
        switch configuration.subjectTokenSource {
        case .file(let path):
            origin = path
            guard let data = FileManager.default.contents(atPath: path) else {
                throw GoogleAuthError(kind: .invalidConfiguration, source: sourceName,
                                      message: "credential_source.file \(path): cannot be read")
            }
            raw = Array(data)
        case .url(let url, let headers):
            origin = RedactedURL.describe(url)
            let request = HTTPRequest(method: "GET", url: url, headers: HTTPHeaders(headers.sorted { $0.key < $1.key }))
            let response: HTTPResponse
            do {
                response = try await endpoint.transport.send(request)
            } catch {
                throw GoogleAuthError(kind: .unavailable, source: sourceName, message: "credential_source.url \(origin) failed",
                                      underlying: error as? TransportError)
            }
            guard response.status == 200 else {
                throw GoogleAuthError(kind: .rejected, source: sourceName,
                                      message: "credential_source.url \(origin) answered HTTP \(response.status)")
            }
            raw = response.body
        case .aws:
            throw GoogleAuthError(kind: .invalidConfiguration, source: sourceName,
                                  message: "credential_source.environment_id aws1: AWS-sourced subject tokens are not supported by this drctl yet; use a file- or URL-sourced configuration")
        case .executable:
            throw GoogleAuthError(kind: .invalidConfiguration, source: sourceName,
                                  message: "credential_source.executable: executable-sourced credentials are not supported by drctl")
        }
        let token: String?
        switch configuration.format {
        case .text:
            token = String(decoding: raw, as: UTF8.self)
        case .json(let field):
            let object = try? JSONSerialization.jsonObject(with: Data(raw)) as? [String: Any]
            token = object?[field] as? String
            if token == nil {
                throw GoogleAuthError(kind: .invalidConfiguration, source: sourceName,
                                      message: "the subject token at \(origin) is not a JSON object with a string field \(field) (credential_source.format.subject_token_field_name)")
            }
        }
        guard let token, !token.isEmpty else {
            throw GoogleAuthError(kind: .invalidConfiguration, source: sourceName, message: "the subject token at \(origin) is empty")
        }
        return token
    }
}
