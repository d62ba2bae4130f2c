import Foundation

/// STS AssumeRoleWithWebIdentity with a token read from a file, as on EKS (IRSA):
/// https://docs.aws.amazon.com/sdkref/latest/guide/feature-assume-role-credentials.html
///
/// The token file is read again on every resolve because the kubelet rotates it; wrap this
/// provider in `RefreshingCredentialProvider` so that happens only when credentials near expiry.
public struct WebIdentityCredentialProvider: CredentialProvider {
    public let tokenFile: String
    public let roleArn: String
    public let sessionName: String
    public let durationSeconds: Int?
    public let region: String
    private let sts: any SecurityTokenService

    public init(tokenFile: String, roleArn: String, sessionName: String? = nil, durationSeconds: Int? = nil,
                region: String, sts: any SecurityTokenService) {
        self.tokenFile = tokenFile
        self.roleArn = roleArn
        self.sessionName = sessionName ?? Self.defaultSessionName()
        self.durationSeconds = durationSeconds
        self.region = region
        self.sts = sts
    }

    /// From `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN` and `AWS_ROLE_SESSION_NAME`.
    /// Throws `notFound` when the token file variable is not set.
    public init(environment: [String: String], sts: any SecurityTokenService) throws {
        func value(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        guard let tokenFile = value("AWS_WEB_IDENTITY_TOKEN_FILE") else {
            throw CredentialError.notFound("web identity", "AWS_WEB_IDENTITY_TOKEN_FILE is not set")
        }
        guard let roleArn = value("AWS_ROLE_ARN") else {
            throw CredentialError(kind: .invalidConfiguration, provider: "web identity",
                                  message: "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
        }
        let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? "us-east-1"
        self.init(tokenFile: tokenFile, roleArn: roleArn, sessionName: value("AWS_ROLE_SESSION_NAME"),
                  region: region, sts: sts)
    }

    public func resolve() async throws -> ResolvedCredentials {
        let provider = "web identity \(roleArn)"
        guard let data = FileManager.default.contents(atPath: tokenFile) else {
            throw CredentialError(kind: .invalidConfiguration, provider: provider,
                                  message: "cannot read the web identity token file \(tokenFile)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw CredentialError(kind: .invalidConfiguration, provider: provider,
                                  message: "the web identity token file \(tokenFile) is empty")
        }
        do {
            let credentials = try await sts.assumeRoleWithWebIdentity(
                roleArn: roleArn, sessionName: sessionName, webIdentityToken: token,
                durationSeconds: durationSeconds, region: region)
            return ResolvedCredentials(credentials: credentials, source: .webIdentity(roleArn: roleArn))
        } catch let error as CancellationError {
            throw error
        } catch {
            throw CredentialError(kind: .stsFailed, provider: provider, message: "AssumeRoleWithWebIdentity failed",
                                  underlying: error)
        }
    }

    /// STS requires a session name; the SDKs make one from the time when none is configured.
    static func defaultSessionName() -> String {
        "drctl-\(Int(Date().timeIntervalSince1970 * 1000))"
    }
}
