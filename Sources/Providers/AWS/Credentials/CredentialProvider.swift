import DRCore
import Foundation

/// Where a set of credentials came from, for `drctl whoami` and logs (never the secret itself).
public indirect enum CredentialSource: Sendable, Equatable, CustomStringConvertible {
    case environment
    case profile(String)
    case process(profile: String)
    case assumeRole(roleArn: String, via: CredentialSource)
    case webIdentity(roleArn: String)
    case container
    case instanceMetadata
    case explicit

    public var description: String {
        switch self {
        case .environment: return "environment"
        case .profile(let name): return "profile \(name)"
        case .process(let profile): return "credential_process (profile \(profile))"
        case .assumeRole(let role, let via): return "assume-role \(role) via \(via)"
        case .webIdentity(let role): return "web identity \(role)"
        case .container: return "container credentials"
        case .instanceMetadata: return "EC2 instance metadata (IMDSv2)"
        case .explicit: return "explicit"
        }
    }
}

public struct ResolvedCredentials: Sendable {
    public let credentials: AWSCredentials
    public let source: CredentialSource

    public init(credentials: AWSCredentials, source: CredentialSource) {
        self.credentials = credentials
        self.source = source
    }
}

/// Produces credentials. Providers are small and composed into a chain; temporary credentials
/// are wrapped in a refreshing cache so callers always get unexpired ones.
public protocol CredentialProvider: Sendable {
    func resolve() async throws -> ResolvedCredentials
}

/// The two STS calls the credential chain needs. Implemented by `STSClient` on the Query protocol;
/// kept as a protocol so the chain does not depend on the whole client stack.
public protocol SecurityTokenService: Sendable {
    func assumeRole(roleArn: String, sessionName: String, externalId: String?, durationSeconds: Int?,
                    using credentials: AWSCredentials, region: String) async throws -> AWSCredentials
    /// Unsigned call: the web identity token is the proof.
    func assumeRoleWithWebIdentity(roleArn: String, sessionName: String, webIdentityToken: String,
                                   durationSeconds: Int?, region: String) async throws -> AWSCredentials
}
