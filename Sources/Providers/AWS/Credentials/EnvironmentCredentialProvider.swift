import Foundation

/// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` and
/// `AWS_CREDENTIAL_EXPIRATION` (https://docs.aws.amazon.com/sdkref/latest/guide/environment-variables.html).
public struct EnvironmentCredentialProvider: CredentialProvider {
    private let environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public func resolve() async throws -> ResolvedCredentials {
        let name = "environment"
        let accessKeyId = value("AWS_ACCESS_KEY_ID")
        let secret = value("AWS_SECRET_ACCESS_KEY")
        switch (accessKeyId, secret) {
        case (nil, nil):
            throw CredentialError.notFound(name, "AWS_ACCESS_KEY_ID is not set")
        case (nil, _):
            throw CredentialError(kind: .invalidConfiguration, provider: name,
                                  message: "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        case (_, nil):
            throw CredentialError(kind: .invalidConfiguration, provider: name,
                                  message: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        case let (accessKeyId?, secret?):
            var expiration: Date?
            if let text = value("AWS_CREDENTIAL_EXPIRATION") {
                guard let date = CredentialTimestamp.parse(text) else {
                    throw CredentialError(kind: .invalidConfiguration, provider: name,
                                          message: "AWS_CREDENTIAL_EXPIRATION is not an RFC 3339 timestamp")
                }
                expiration = date
            }
            let credentials = AWSCredentials(accessKeyId: accessKeyId, secretAccessKey: secret,
                                             sessionToken: value("AWS_SESSION_TOKEN"), expiration: expiration)
            return ResolvedCredentials(credentials: credentials, source: .environment)
        }
    }

    private func value(_ key: String) -> String? {
        guard let value = environment[key], !value.isEmpty else { return nil }
        return value
    }
}

/// The stored environment may hold secret keys, so the default reflection-based description is replaced.
extension EnvironmentCredentialProvider: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "EnvironmentCredentialProvider" }
    public var debugDescription: String { description }
}
