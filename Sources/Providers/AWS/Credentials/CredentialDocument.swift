import Foundation

/// The JSON credential documents of the container endpoint, IMDS and credential_process:
/// `AccessKeyId`, `SecretAccessKey`, a session token and `Expiration`. Errors name the missing
/// field, never a value, and never pass on the JSON parser's message (it can quote the input).
struct CredentialDocument {
    let fields: [String: Any]
    let provider: String
    let errorKind: CredentialError.Kind

    init(_ data: Data, provider: String, errorKind: CredentialError.Kind) throws {
        self.provider = provider
        self.errorKind = errorKind
        guard let object = try? JSONSerialization.jsonObject(with: data), let fields = object as? [String: Any] else {
            throw CredentialError(kind: errorKind, provider: provider, message: "response is not a JSON object")
        }
        self.fields = fields
    }

    func string(_ key: String) -> String? {
        guard let value = fields[key] as? String, !value.isEmpty else { return nil }
        return value
    }

    /// - Parameter tokenKey: `Token` for the container endpoint and IMDS, `SessionToken` for a process.
    func credentials(tokenKey: String) throws -> AWSCredentials {
        guard let accessKeyId = string("AccessKeyId") else { throw missing("AccessKeyId") }
        guard let secret = string("SecretAccessKey") else { throw missing("SecretAccessKey") }
        var expiration: Date?
        if let text = string("Expiration") {
            guard let date = CredentialTimestamp.parse(text) else {
                throw CredentialError(kind: errorKind, provider: provider, message: "Expiration is not an RFC 3339 timestamp")
            }
            expiration = date
        }
        return AWSCredentials(accessKeyId: accessKeyId, secretAccessKey: secret, sessionToken: string(tokenKey),
                              expiration: expiration)
    }

    private func missing(_ key: String) -> CredentialError {
        CredentialError(kind: errorKind, provider: provider, message: "response has no \(key)")
    }
}
