import DRCore
import Foundation

/// A service-account key → signed assertion → OAuth2 token (the jwt-bearer grant, form-encoded as
/// google-auth's `_client.jwt_grant` sends it: `assertion`, then `grant_type`).
public struct ServiceAccountTokenSource: GoogleTokenSource {
    static let grantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

    public let key: ServiceAccountKey
    let endpoint: TokenEndpoint
    let sourceName: String
    let now: @Sendable () -> Date

    init(key: ServiceAccountKey, endpoint: TokenEndpoint, sourceName: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.key = key
        self.endpoint = endpoint
        self.sourceName = sourceName
        self.now = now
    }

    public func token(scopes: [String]) async throws -> GoogleAccessToken {
        let issued = now()
        let assertion: String
        do {
            assertion = try ServiceAccountAssertion.make(clientEmail: key.clientEmail, keyId: key.privateKeyId, signer: key.signer,
                                                         scopes: scopes, audience: key.tokenURI, now: issued)
        } catch {
            throw GoogleAuthError(kind: .malformedFile, source: sourceName, message: "\(sourceName): field private_key: cannot sign with it",
                                  underlying: error as? CryptoError)
        }
        let request = Self.request(tokenURI: key.tokenURI, assertion: assertion)
        let object = try await endpoint.call(request, source: sourceName, what: "the token endpoint \(RedactedURL.describe(key.tokenURI))",
                                             secrets: [assertion])
        return try TokenEndpoint.oauthToken(object, source: sourceName, now: issued)
    }

    static func request(tokenURI: String, assertion: String) -> HTTPRequest {
        HTTPRequest(method: "POST", url: tokenURI, headers: ["Content-Type": "application/x-www-form-urlencoded"],
                    body: FormEncoding.encode([("assertion", assertion), ("grant_type", grantType)]))
    }
}

/// A user's refresh token → access token (RFC 6749 §6; google-auth `_client.refresh_grant`).
/// No scope is sent: user credentials carry the scopes they were granted at login.
public struct AuthorizedUserTokenSource: GoogleTokenSource {
    let user: AuthorizedUserCredentials
    /// `https://oauth2.googleapis.com/token`, or its override.
    let tokenURI: String
    let endpoint: TokenEndpoint
    let sourceName: String
    let now: @Sendable () -> Date

    init(user: AuthorizedUserCredentials, tokenURI: String, endpoint: TokenEndpoint, sourceName: String,
         now: @escaping @Sendable () -> Date = { Date() }) {
        self.user = user
        self.tokenURI = tokenURI
        self.endpoint = endpoint
        self.sourceName = sourceName
        self.now = now
    }

    public func token(scopes: [String]) async throws -> GoogleAccessToken {
        let issued = now()
        let body = FormEncoding.encode([("grant_type", "refresh_token"), ("client_id", user.clientId),
                                        ("client_secret", user.clientSecret), ("refresh_token", user.refreshToken)])
        let request = HTTPRequest(method: "POST", url: tokenURI, headers: ["Content-Type": "application/x-www-form-urlencoded"], body: body)
        let object = try await endpoint.call(request, source: sourceName, what: "the token endpoint \(RedactedURL.describe(tokenURI))",
                                             secrets: [user.clientSecret, user.refreshToken])
        return try TokenEndpoint.oauthToken(object, source: sourceName, now: issued)
    }
}

/// Acts as another service account: the base credentials call `iamcredentials.generateAccessToken`
/// (https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateAccessToken),
/// body as google-auth's `impersonated_credentials` sends it: `delegates`, `scope`, `lifetime`.
public struct ImpersonatedTokenSource: GoogleTokenSource {
    public let targetPrincipal: String
    let url: String
    let delegates: [String]
    let lifetimeSeconds: Int
    let base: any GoogleTokenSource
    /// What the base credentials ask for: user credentials ignore it, a service account needs `iam`
    /// (google-auth), STS tokens need `cloud-platform`.
    let baseScopes: [String]
    let endpoint: TokenEndpoint
    let sourceName: String

    init(targetPrincipal: String, url: String, delegates: [String], lifetimeSeconds: Int = 3600, base: any GoogleTokenSource,
         baseScopes: [String] = [GoogleScopes.cloudPlatform], endpoint: TokenEndpoint, sourceName: String) {
        self.targetPrincipal = targetPrincipal
        self.url = url
        self.delegates = delegates
        self.lifetimeSeconds = lifetimeSeconds
        self.base = base
        self.baseScopes = baseScopes
        self.endpoint = endpoint
        self.sourceName = sourceName
    }

    public func token(scopes: [String]) async throws -> GoogleAccessToken {
        let baseToken = try await base.token(scopes: baseScopes)
        let body: [String: Any] = [
            "delegates": delegates.map { $0.hasPrefix("projects/") ? $0 : "projects/-/serviceAccounts/\($0)" },
            "scope": scopes, "lifetime": "\(lifetimeSeconds)s",
        ]
        let request = HTTPRequest(method: "POST", url: url,
                                  headers: ["Content-Type": "application/json", "Authorization": "Bearer \(baseToken.value)"],
                                  body: Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])))
        let object = try await endpoint.call(request, source: sourceName, what: "generateAccessToken for \(targetPrincipal)",
                                             secrets: [baseToken.value])
        return try TokenEndpoint.iamToken(object, source: sourceName)
    }
}
