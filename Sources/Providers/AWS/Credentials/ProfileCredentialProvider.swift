import DRCore
import Foundation

/// Credentials from one named profile of the shared config and credentials files:
/// https://docs.aws.amazon.com/sdkref/latest/guide/feature-assume-role-credentials.html
///
/// In order, a profile may give:
/// 1. `role_arn` with `source_profile` (followed through other profiles, cycles rejected) or
///    `credential_source` (`Environment`, `Ec2InstanceMetadata`, `EcsContainer`) → STS AssumeRole;
///    `role_arn` with `web_identity_token_file` → STS AssumeRoleWithWebIdentity;
/// 2. static `aws_access_key_id` / `aws_secret_access_key` / `aws_session_token`;
/// 3. `credential_process`.
/// A profile used as someone's `source_profile` prefers its static keys over its own `role_arn`,
/// as botocore does, so a base profile with keys and a role can feed another role.
///
/// The files are read on every resolve; wrap in `RefreshingCredentialProvider` to cache.
public struct ProfileCredentialProvider: CredentialProvider {
    public let profileName: String
    private let environment: [String: String]
    private let transport: any HTTPTransport
    private let sts: any SecurityTokenService
    private let processTimeout: Duration

    public init(profile: String, environment: [String: String], transport: any HTTPTransport,
                sts: any SecurityTokenService, processTimeout: Duration = .seconds(60)) {
        self.profileName = profile
        self.environment = environment
        self.transport = transport
        self.sts = sts
        self.processTimeout = processTimeout
    }

    public func resolve() async throws -> ResolvedCredentials {
        let config: AWSSharedConfig
        do {
            config = try AWSSharedConfig(environment: environment)
        } catch {
            throw CredentialError(kind: .malformedFile, provider: "profile \(profileName)", message: error.description)
        }
        return try await resolve(profileName, in: config, path: [], asSource: false)
    }

    /// - Parameter path: the profiles that led here through `source_profile`, for cycle detection.
    private func resolve(_ name: String, in config: AWSSharedConfig, path: [String],
                         asSource: Bool) async throws -> ResolvedCredentials {
        let provider = "profile \(name)"
        guard let profile = config.profile(named: name) else {
            let files = config.searchedPaths.isEmpty ? "no config files (HOME is not set)" : config.searchedPaths.joined(separator: ", ")
            if let referrer = path.last {
                throw CredentialError(kind: .invalidConfiguration, provider: "profile \(referrer)",
                                      message: "source_profile \(name) is not in \(files)")
            }
            throw CredentialError.notFound(provider, "profile \(name) is not in \(files)")
        }
        if asSource, let keys = try staticCredentials(profile) { return keys }
        if profile["role_arn"] != nil {
            return try await assumeRole(profile, in: config, path: path + [name])
        }
        if let keys = try staticCredentials(profile) { return keys }
        if let command = profile["credential_process"] {
            let process = CredentialProcess(command: command, profile: name, environment: environment, timeout: processTimeout)
            return ResolvedCredentials(credentials: try await process.run(), source: .process(profile: name))
        }
        if profile["sso_session"] != nil || profile["sso_start_url"] != nil {
            throw CredentialError(kind: .invalidConfiguration, provider: provider,
                                  message: "IAM Identity Center (SSO) profiles are not supported yet; use credential_process with `aws configure export-credentials`")
        }
        let message = "has no aws_access_key_id, role_arn or credential_process"
        if asSource { throw CredentialError(kind: .invalidConfiguration, provider: provider, message: message) }
        throw CredentialError.notFound(provider, message)
    }

    private func staticCredentials(_ profile: AWSProfile) throws -> ResolvedCredentials? {
        let accessKeyId = profile["aws_access_key_id"], secret = profile["aws_secret_access_key"]
        switch (accessKeyId, secret) {
        case (nil, nil):
            return nil
        case let (accessKeyId?, secret?):
            let credentials = AWSCredentials(accessKeyId: accessKeyId, secretAccessKey: secret,
                                             sessionToken: profile["aws_session_token"])
            return ResolvedCredentials(credentials: credentials, source: .profile(profile.name))
        default:
            throw CredentialError(kind: .invalidConfiguration, provider: "profile \(profile.name)",
                                  message: "needs both aws_access_key_id and aws_secret_access_key")
        }
    }

    private func assumeRole(_ profile: AWSProfile, in config: AWSSharedConfig, path: [String]) async throws -> ResolvedCredentials {
        let provider = "profile \(profile.name)"
        func invalid(_ message: String) -> CredentialError {
            CredentialError(kind: .invalidConfiguration, provider: provider, message: message)
        }
        let roleArn = profile["role_arn"]!
        guard profile["mfa_serial"] == nil else {
            throw invalid("mfa_serial needs an interactive MFA prompt, which drctl does not offer")
        }
        var durationSeconds: Int?
        if let text = profile["duration_seconds"] {
            guard let value = Int(text), (900...43200).contains(value) else {
                throw invalid("duration_seconds must be a whole number from 900 to 43200")
            }
            durationSeconds = value
        }
        let region = [environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"], profile["region"]]
            .compactMap { $0 }.first { !$0.isEmpty } ?? "us-east-1"
        let sessionName = profile["role_session_name"] ?? WebIdentityCredentialProvider.defaultSessionName()

        let sourceProfile = profile["source_profile"], credentialSource = profile["credential_source"]
        if sourceProfile != nil && credentialSource != nil {
            throw invalid("has both source_profile and credential_source; use one")
        }
        let source: ResolvedCredentials
        if let sourceProfile {
            source = try await resolveSource(sourceProfile, of: profile, in: config, path: path)
        } else if let credentialSource {
            source = try await resolve(credentialSource: credentialSource, provider: provider)
        } else if let tokenFile = profile["web_identity_token_file"] {
            return try await WebIdentityCredentialProvider(
                tokenFile: tokenFile, roleArn: roleArn, sessionName: profile["role_session_name"],
                durationSeconds: durationSeconds, region: region, sts: sts).resolve()
        } else {
            throw invalid("has role_arn but no source_profile, credential_source or web_identity_token_file")
        }

        do {
            let credentials = try await sts.assumeRole(
                roleArn: roleArn, sessionName: sessionName, externalId: profile["external_id"],
                durationSeconds: durationSeconds, using: source.credentials, region: region)
            return ResolvedCredentials(credentials: credentials, source: .assumeRole(roleArn: roleArn, via: source.source))
        } catch let error as CancellationError {
            throw error
        } catch {
            throw CredentialError(kind: .stsFailed, provider: provider, message: "AssumeRole \(roleArn) failed",
                                  underlying: error)
        }
    }

    private func resolveSource(_ sourceName: String, of profile: AWSProfile, in config: AWSSharedConfig,
                               path: [String]) async throws -> ResolvedCredentials {
        if sourceName == profile.name {
            // A profile may name itself as source to assume its role with its own keys.
            guard let keys = try staticCredentials(profile) else {
                throw CredentialError(kind: .invalidConfiguration, provider: "profile \(profile.name)",
                                      message: "is its own source_profile but has no aws_access_key_id")
            }
            return keys
        }
        if path.contains(sourceName) {
            throw CredentialError(kind: .invalidConfiguration, provider: "profile \(path[0])",
                                  message: "source_profile cycle: \((path + [sourceName]).joined(separator: " -> "))")
        }
        return try await resolve(sourceName, in: config, path: path, asSource: true)
    }

    private func resolve(credentialSource: String, provider: String) async throws -> ResolvedCredentials {
        do {
            return try await resolveUnchecked(credentialSource: credentialSource, provider: provider)
        } catch let error as CredentialError where error.kind == .notFound {
            // Named as the source, so its absence is a broken profile, not a reason to try the next provider.
            throw CredentialError(kind: .invalidConfiguration, provider: provider,
                                  message: "credential_source \(credentialSource) found nothing", underlying: error)
        }
    }

    private func resolveUnchecked(credentialSource: String, provider: String) async throws -> ResolvedCredentials {
        // Values are matched exactly, as the SDKs do.
        switch credentialSource {
        case "Environment":
            return try await EnvironmentCredentialProvider(environment: environment).resolve()
        case "Ec2InstanceMetadata":
            return try await InstanceMetadataCredentialProvider(environment: environment, transport: transport).resolve()
        case "EcsContainer":
            return try await ContainerCredentialProvider(environment: environment, transport: transport).resolve()
        default:
            throw CredentialError(kind: .invalidConfiguration, provider: provider,
                                  message: "credential_source must be Environment, Ec2InstanceMetadata or EcsContainer")
        }
    }
}

/// The stored environment may hold secret keys, so the default reflection-based description is replaced.
extension ProfileCredentialProvider: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "ProfileCredentialProvider(\(profileName))" }
    public var debugDescription: String { description }
}
