import DRCore
import Foundation

/// The credential chain in the order the AWS SDKs use:
/// https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html
///
/// A profile named explicitly (`--profile` or `AWS_PROFILE`) is the only source used, so a named
/// profile can never be shadowed by stray environment keys or an instance role. Otherwise:
/// environment → web identity → profile `default` → container → instance metadata.
public enum DefaultCredentialChain {
    /// - Parameters:
    ///   - environment: the process environment (pass `ProcessInfo.processInfo.environment`).
    ///   - profile: the `--profile` option, if given; it wins over `AWS_PROFILE`.
    ///   - transport: for the container and instance metadata endpoints (a `CurlTransport`).
    ///   - sts: for AssumeRole and AssumeRoleWithWebIdentity.
    ///   - now: the clock used to decide when to refresh.
    public static func make(environment: [String: String], profile: String? = nil, transport: any HTTPTransport,
                            sts: any SecurityTokenService,
                            now: @escaping @Sendable () -> Date = { Date() }) -> any CredentialProvider {
        func refreshing(_ provider: any CredentialProvider,
                        margin: TimeInterval = RefreshingCredentialProvider.defaultRefreshMargin) -> any CredentialProvider {
            RefreshingCredentialProvider(wrapping: provider, refreshMargin: margin, now: now)
        }
        if let named = explicitProfile(environment: environment, profile: profile) {
            return refreshing(ProfileCredentialProvider(profile: named, environment: environment, transport: transport, sts: sts))
        }
        return CredentialChain([
            refreshing(EnvironmentCredentialProvider(environment: environment)),
            refreshing(LazyWebIdentityProvider(environment: environment, sts: sts)),
            refreshing(ProfileCredentialProvider(profile: "default", environment: environment, transport: transport, sts: sts)),
            refreshing(ContainerCredentialProvider(environment: environment, transport: transport)),
            refreshing(InstanceMetadataCredentialProvider(environment: environment, transport: transport),
                       margin: RefreshingCredentialProvider.instanceMetadataRefreshMargin),
        ])
    }

    static func explicitProfile(environment: [String: String], profile: String?) -> String? {
        if let profile, !profile.isEmpty { return profile }
        if let named = environment["AWS_PROFILE"], !named.isEmpty { return named }
        return nil
    }
}

/// Reads the web identity variables when asked, so a chain can be built before knowing them.
private struct LazyWebIdentityProvider: CredentialProvider {
    let environment: [String: String]
    let sts: any SecurityTokenService

    func resolve() async throws -> ResolvedCredentials {
        try await WebIdentityCredentialProvider(environment: environment, sts: sts).resolve()
    }
}
