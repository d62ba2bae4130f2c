import Foundation

/// `type: external_account` — workload identity federation: a subject token from elsewhere (a
/// file, a URL, AWS) exchanged at Google's STS for an access token, optionally impersonating a
/// service account on top. https://google.aip.dev/auth/4117, google-auth `external_account.py`,
/// `identity_pool.py`, `aws.py`.
public struct ExternalAccountConfiguration: Sendable, CustomStringConvertible {
    public enum SubjectTokenSource: Sendable, Equatable {
        case file(path: String)
        case url(String, headers: [String: String])
        /// `environment_id: aws1…` (google-auth `aws.py`): a signed GetCallerIdentity request.
        case aws(environmentId: String)
        /// `executable` (pluggable auth): runs a program; not supported by drctl.
        case executable
    }

    /// How the subject token is written where it is read: plain text, or one field of a JSON object.
    public enum SubjectTokenFormat: Sendable, Equatable {
        case text
        case json(field: String)
    }

    public let audience: String
    public let subjectTokenType: String
    public let tokenURL: String
    public let subjectTokenSource: SubjectTokenSource
    public let format: SubjectTokenFormat
    public let impersonationURL: String?
    /// The impersonated principal, from `service_account_impersonation_url`.
    public let impersonatedPrincipal: String?
    public let impersonationLifetimeSeconds: Int?
    public let clientId: String?
    let clientSecret: String?
    public let quotaProjectId: String?
    public let workforcePoolUserProject: String?

    init(_ fields: KeyFileFields) throws {
        audience = try fields.required("audience")
        subjectTokenType = try fields.required("subject_token_type")
        tokenURL = try fields.url("token_url", default: GoogleCredentialFile.defaultSTSTokenURL)
        impersonationURL = fields.has("service_account_impersonation_url") ? try fields.url("service_account_impersonation_url") : nil
        impersonatedPrincipal = try impersonationURL.map {
            try ServiceAccountImpersonation.principal(fromURL: $0, fields: fields, field: "service_account_impersonation_url")
        }
        if let options = try fields.optionalObject("service_account_impersonation"),
           let lifetime = try options.int("token_lifetime_seconds") {
            // google-auth: 600 s to 43200 s.
            guard (600...43200).contains(lifetime) else {
                throw options.error("token_lifetime_seconds", "found \(lifetime), expected 600 to 43200")
            }
            impersonationLifetimeSeconds = lifetime
        } else {
            impersonationLifetimeSeconds = nil
        }
        clientId = try fields.optional("client_id")
        clientSecret = try fields.optional("client_secret")
        quotaProjectId = try fields.optional("quota_project_id")
        workforcePoolUserProject = try fields.optional("workforce_pool_user_project")

        let source = try fields.object("credential_source")
        var kinds: [SubjectTokenSource] = []
        if let file = try source.optional("file") { kinds.append(.file(path: file)) }
        if source.has("url") { kinds.append(.url(try source.url("url"), headers: try source.stringMap("headers"))) }
        if let environment = try source.optional("environment_id") {
            guard environment.hasPrefix("aws") else {
                throw source.error("environment_id", "found '\(environment.prefix(20))', expected aws1")
            }
            kinds.append(.aws(environmentId: environment))
        }
        if source.has("executable") { kinds.append(.executable) }
        guard kinds.count == 1, let kind = kinds.first else {
            throw fields.error("credential_source", kinds.isEmpty ? "expected one of file, url, environment_id, executable"
                                                                 : "found several sources, expected exactly one of file, url, environment_id, executable")
        }
        subjectTokenSource = kind

        if let format = try source.optionalObject("format") {
            switch try format.optional("type") ?? "text" {
            case "text": self.format = .text
            case "json": self.format = .json(field: try format.required("subject_token_field_name"))
            case let other: throw format.error("type", "found '\(other.prefix(20))', expected text or json")
            }
        } else {
            format = .text
        }
    }

    public var description: String { "ExternalAccountConfiguration(audience \(audience))" }
}

/// `…/serviceAccounts/NAME@PROJECT.iam.gserviceaccount.com:generateAccessToken` → the email.
enum ServiceAccountImpersonation {
    static func principal(fromURL url: String, fields: KeyFileFields, field: String) throws -> String {
        guard let start = url.range(of: "/serviceAccounts/"), let end = url.range(of: ":generateAccessToken", options: .backwards),
              start.upperBound < end.lowerBound else {
            throw fields.error(field, "expected …/serviceAccounts/EMAIL:generateAccessToken")
        }
        let email = String(url[start.upperBound..<end.lowerBound])
        return email.removingPercentEncoding ?? email
    }

    /// The generateAccessToken URL of `iamcredentials` for `principal` at `root` (with its trailing slash).
    static func url(root: String, principal: String) -> String {
        let email = principal.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? principal
        return root + "v1/projects/-/serviceAccounts/\(email):generateAccessToken"
    }
}
