import DRCore
import Foundation

/// A Google credentials file, as `GOOGLE_APPLICATION_CREDENTIALS` or gcloud's ADC file holds it,
/// decoded by its `type` (google-auth `_default._load_credentials_from_info`). Parsing is pure and
/// total: any bytes give a value or a `GoogleAuthError.malformedFile` naming the path, the field
/// and what was expected — never a value from the file (it holds keys and secrets).
public indirect enum GoogleCredentialFile: Sendable {
    case serviceAccount(ServiceAccountKey)
    case authorizedUser(AuthorizedUserCredentials)
    case externalAccount(ExternalAccountConfiguration)
    case impersonatedServiceAccount(ImpersonatedServiceAccountConfiguration)

    public static let defaultTokenURI = "https://oauth2.googleapis.com/token"
    public static let defaultSTSTokenURL = "https://sts.googleapis.com/v1/token"
    static let knownTypes = ["service_account", "authorized_user", "external_account", "impersonated_service_account"]

    /// The `type` field, as the file spells it.
    public var typeName: String {
        switch self {
        case .serviceAccount: return "service_account"
        case .authorizedUser: return "authorized_user"
        case .externalAccount: return "external_account"
        case .impersonatedServiceAccount: return "impersonated_service_account"
        }
    }

    public var projectId: String? {
        if case .serviceAccount(let key) = self { return key.projectId }
        return nil
    }

    public var quotaProjectId: String? {
        switch self {
        case .serviceAccount(let key): return key.quotaProjectId
        case .authorizedUser(let user): return user.quotaProjectId
        case .externalAccount(let account): return account.quotaProjectId
        case .impersonatedServiceAccount(let impersonated): return impersonated.quotaProjectId
        }
    }

    public static func read(path: String) throws -> GoogleCredentialFile {
        guard FileManager.default.fileExists(atPath: path) else {
            throw GoogleAuthError.malformed(path, field: nil, "file not found")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GoogleAuthError.malformed(path, field: nil, "cannot be read (permissions?)")
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String) throws -> GoogleCredentialFile {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            // Foundation's message can quote the input; only the position is kept.
            throw GoogleAuthError.malformed(path, field: nil, "not valid JSON\(JSONErrorPosition.describe(error, in: data))")
        }
        guard let dictionary = object as? [String: Any] else {
            throw GoogleAuthError.malformed(path, field: nil, "expected a JSON object")
        }
        let fields = KeyFileFields(dictionary, path: path, prefix: "")
        return try parse(fields)
    }

    static func parse(_ fields: KeyFileFields) throws -> GoogleCredentialFile {
        let type = try fields.required("type")
        switch type {
        case "service_account": return .serviceAccount(try ServiceAccountKey(fields))
        case "authorized_user": return .authorizedUser(try AuthorizedUserCredentials(fields))
        case "external_account": return .externalAccount(try ExternalAccountConfiguration(fields))
        case "impersonated_service_account": return .impersonatedServiceAccount(try ImpersonatedServiceAccountConfiguration(fields))
        default:
            throw fields.error("type", "found '\(type.prefix(40))', expected one of \(knownTypes.joined(separator: ", "))")
        }
    }
}

/// A service-account key (`type: service_account`), with its private key already parsed: a PEM that
/// is not an RSA private key is a located error when the file is read, not at the first call.
public struct ServiceAccountKey: Sendable {
    public let clientEmail: String
    public let privateKeyId: String?
    public let signer: RSASigner
    public let tokenURI: String
    public let projectId: String?
    public let quotaProjectId: String?

    init(_ fields: KeyFileFields) throws {
        clientEmail = try fields.required("client_email")
        let pem = try fields.required("private_key")
        do {
            signer = try RSASigner(pem: pem)
        } catch {
            throw fields.error("private_key", "expected an RSA private key in PEM (-----BEGIN PRIVATE KEY-----)")
        }
        privateKeyId = try fields.optional("private_key_id")
        // google-auth requires token_uri (`_service_account_info.from_dict`); Google's key files always have it.
        tokenURI = try fields.url("token_uri")
        projectId = try fields.optional("project_id")
        quotaProjectId = try fields.optional("quota_project_id")
    }
}

/// A user's refresh token from `gcloud auth application-default login` (`type: authorized_user`).
public struct AuthorizedUserCredentials: Sendable, CustomStringConvertible {
    public let clientId: String
    let clientSecret: String
    let refreshToken: String
    public let quotaProjectId: String?
    public let account: String?

    init(_ fields: KeyFileFields) throws {
        clientId = try fields.required("client_id")
        clientSecret = try fields.required("client_secret")
        refreshToken = try fields.required("refresh_token")
        // No token_uri: google-auth sends the refresh grant to Google's endpoint whatever the file says
        // (`Credentials.from_authorized_user_info`, "always overrides"); drctl's override is
        // CLOUDSDK_API_ENDPOINT_OVERRIDES_OAUTH2.
        quotaProjectId = try fields.optional("quota_project_id")
        account = try fields.optional("account")
    }

    public var description: String { "AuthorizedUserCredentials(client \(clientId))" }
}

/// `impersonated_service_account`: source credentials (nested) that act as another service account.
public struct ImpersonatedServiceAccountConfiguration: Sendable {
    public let impersonationURL: String
    public let targetPrincipal: String
    public let delegates: [String]
    public let source: GoogleCredentialFile
    public let quotaProjectId: String?

    init(_ fields: KeyFileFields) throws {
        impersonationURL = try fields.url("service_account_impersonation_url")
        targetPrincipal = try ServiceAccountImpersonation.principal(fromURL: impersonationURL, fields: fields,
                                                                    field: "service_account_impersonation_url")
        delegates = try fields.stringArray("delegates")
        let nested = try fields.object("source_credentials")
        source = try GoogleCredentialFile.parse(nested)
        if case .impersonatedServiceAccount = source {
            throw nested.error("type", "found impersonated_service_account, expected source credentials (service_account, authorized_user or external_account)")
        }
        quotaProjectId = try fields.optional("quota_project_id")
    }
}

/// Field access that knows where it is: `path: field source_credentials.client_email: missing`.
struct KeyFileFields {
    let values: [String: Any]
    let path: String
    let prefix: String

    init(_ values: [String: Any], path: String, prefix: String) {
        self.values = values
        self.path = path
        self.prefix = prefix
    }

    func error(_ field: String, _ expected: String) -> GoogleAuthError {
        GoogleAuthError.malformed(path, field: prefix + field, expected)
    }

    func has(_ field: String) -> Bool { values[field] != nil && !(values[field] is NSNull) }

    func optional(_ field: String) throws -> String? {
        guard has(field) else { return nil }
        guard let text = values[field] as? String else { throw error(field, "expected a string") }
        return text.isEmpty ? nil : text
    }

    func required(_ field: String) throws -> String {
        guard has(field) else { throw error(field, "missing") }
        guard let text = try optional(field) else { throw error(field, "expected a non-empty string") }
        return text
    }

    /// An http(s) URL; `default` when the field is absent.
    func url(_ field: String, default fallback: String? = nil) throws -> String {
        guard let text = try (fallback == nil ? required(field) : optional(field) ?? fallback) else { throw error(field, "missing") }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "https" || scheme == "http", let host = components.host, !host.isEmpty else {
            throw error(field, "expected an http(s) URL")
        }
        return text
    }

    func int(_ field: String) throws -> Int? {
        guard has(field) else { return nil }
        guard let number = values[field] as? NSNumber, !(values[field] is Bool),
              let value = Int(exactly: number.doubleValue) else { throw error(field, "expected an integer") }
        return value
    }

    func stringArray(_ field: String) throws -> [String] {
        guard has(field) else { return [] }
        guard let items = values[field] as? [Any], let strings = items as? [String] else { throw error(field, "expected an array of strings") }
        return strings
    }

    func stringMap(_ field: String) throws -> [String: String] {
        guard has(field) else { return [:] }
        guard let map = values[field] as? [String: Any], let strings = map as? [String: String] else {
            throw error(field, "expected an object of strings")
        }
        return strings
    }

    func object(_ field: String) throws -> KeyFileFields {
        guard has(field) else { throw error(field, "missing") }
        guard let nested = values[field] as? [String: Any] else { throw error(field, "expected an object") }
        return KeyFileFields(nested, path: path, prefix: prefix + field + ".")
    }

    func optionalObject(_ field: String) throws -> KeyFileFields? {
        guard has(field) else { return nil }
        return try object(field)
    }
}

/// Where a JSON parse failed, as ` at line L, column C` (never the text around it).
enum JSONErrorPosition {
    static func describe(_ error: any Error, in data: Data) -> String {
        if data.isEmpty { return ": the file is empty" }
        let message = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? ""
        // swift-corelibs-foundation: "Invalid value around character 12." / "Unexpected end of file …".
        if message.contains("end of file") { return position(data.count, in: data) + ": the file ends early (truncated?)" }
        if let range = message.range(of: "around character "), let index = Int(message[range.upperBound...].prefix { $0.isNumber }),
           index <= data.count {
            return position(index, in: data)
        }
        return ""
    }

    private static func position(_ index: Int, in data: Data) -> String {
        var line = 1, column = 1
        for byte in data.prefix(index) {
            if byte == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
        }
        return " at line \(line), column \(column)"
    }
}
