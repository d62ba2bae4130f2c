import DRCore
import Foundation

/// The non-credential settings an AWS client needs: region, endpoints and retry settings, from
/// command-line options, the environment and the shared config profile, with the SDKs' precedence.
/// `transportConfiguration` carries the ones the HTTP transport needs (the CA bundle).
/// https://docs.aws.amazon.com/sdkref/latest/guide/settings-reference.html
public struct AWSConfiguration: Sendable {
    public enum RetryMode: String, Sendable {
        case legacy, standard, adaptive
    }

    /// `--profile`, else `AWS_PROFILE`, else `default`.
    public let profileName: String
    /// `--region` > `AWS_REGION` > `AWS_DEFAULT_REGION` > profile `region`; nil when none is set.
    public let region: String?
    /// Where `region` came from ("--region", "AWS_REGION", "profile NAME"), for `drctl whoami`.
    public let regionSource: String?
    /// `AWS_MAX_ATTEMPTS` > profile `max_attempts`.
    public let maxAttempts: Int?
    /// `AWS_RETRY_MODE` > profile `retry_mode`.
    public let retryMode: RetryMode?
    /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` > profile `ignore_configured_endpoint_urls`.
    public let ignoresConfiguredEndpointURLs: Bool
    /// False when `AWS_STS_REGIONAL_ENDPOINTS` / `sts_regional_endpoints` is `legacy`.
    public let usesRegionalSTS: Bool
    /// `AWS_CA_BUNDLE` > profile `ca_bundle`: the PEM file of CAs to verify AWS endpoints with
    /// (e.g. a TLS-intercepting proxy's), as boto3 and the AWS CLI use it; nil for the default.
    /// https://docs.aws.amazon.com/sdkref/latest/guide/feature-gen-config.html (ca_bundle)
    public let caBundlePath: String?

    private let environment: [String: String]
    private let profile: AWSProfile?
    private let sharedConfig: AWSSharedConfig

    /// Reads the shared files named by `environment` (see `AWSSharedConfig`).
    /// - Parameters:
    ///   - profile: the `--profile` option, if given.
    ///   - region: the `--region` option, if given.
    public init(environment: [String: String], profile: String? = nil, region: String? = nil) throws(ConfigurationError) {
        try self.init(environment: environment, profile: profile, region: region,
                      sharedConfig: AWSSharedConfig(environment: environment))
    }

    public init(environment: [String: String], profile explicitProfile: String? = nil, region explicitRegion: String? = nil,
                sharedConfig: AWSSharedConfig) throws(ConfigurationError) {
        func env(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        let named = [explicitProfile, env("AWS_PROFILE")].compactMap { $0 }.first { !$0.isEmpty }
        let profileName = named ?? "default"
        let profile = sharedConfig.profile(named: profileName)
        if named != nil, profile == nil {
            throw ConfigurationError(kind: .profileNotFound,
                                     message: "profile \(profileName) is not in \(sharedConfig.searchedPaths.joined(separator: ", "))")
        }
        self.environment = environment
        self.sharedConfig = sharedConfig
        self.profile = profile
        self.profileName = profileName

        let regionCandidates: [(String?, String)] = [(explicitRegion, "--region"), (env("AWS_REGION"), "AWS_REGION"),
                                                     (env("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION"),
                                                     (profile?["region"], "profile \(profileName)")]
        let chosenRegion = regionCandidates.first { $0.0?.isEmpty == false }
        region = chosenRegion?.0
        regionSource = chosenRegion?.1

        if let (text, origin) = Self.setting(env("AWS_MAX_ATTEMPTS"), "AWS_MAX_ATTEMPTS", profile, "max_attempts") {
            guard let value = Int(text), value >= 1 else {
                throw ConfigurationError(kind: .invalidValue, message: "\(origin) must be a whole number of at least 1")
            }
            maxAttempts = value
        } else {
            maxAttempts = nil
        }
        if let (text, origin) = Self.setting(env("AWS_RETRY_MODE"), "AWS_RETRY_MODE", profile, "retry_mode") {
            guard let mode = RetryMode(rawValue: text.lowercased()) else {
                throw ConfigurationError(kind: .invalidValue, message: "\(origin) must be legacy, standard or adaptive")
            }
            retryMode = mode
        } else {
            retryMode = nil
        }
        ignoresConfiguredEndpointURLs = Self.setting(env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "",
                                                     profile, "ignore_configured_endpoint_urls")?.0.lowercased() == "true"
        usesRegionalSTS = Self.setting(env("AWS_STS_REGIONAL_ENDPOINTS"), "", profile, "sts_regional_endpoints")?
            .0.lowercased() != "legacy"
        if let (path, origin) = Self.setting(env("AWS_CA_BUNDLE"), "AWS_CA_BUNDLE", profile, "ca_bundle") {
            // Checked here, not at the first request: curl's "problem with the certificate file"
            // would not say which setting named it.
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ConfigurationError(kind: .unreadableFile, message: "\(origin) names \(path), which is not a readable file (expected a PEM bundle of CA certificates)")
            }
            caBundlePath = path
        } else {
            caBundlePath = nil
        }
    }

    /// The environment value if set, else the profile's; with where it came from, for messages.
    private static func setting(_ environmentValue: String?, _ variable: String, _ profile: AWSProfile?,
                                _ key: String) -> (String, String)? {
        if let environmentValue { return (environmentValue, variable) }
        if let profile, let value = profile[key] { return (value, "\(key) in profile \(profile.name)") }
        return nil
    }

    /// The region, or an error that says how to set one.
    public func requireRegion() throws(ConfigurationError) -> String {
        guard let region else {
            throw ConfigurationError(kind: .missingRegion,
                                     message: "no AWS region: pass --region, set AWS_REGION, or set region in profile \(profileName)")
        }
        return region
    }

    /// The endpoint URL configured for `service`, in the SDKs' order
    /// (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html):
    /// `AWS_ENDPOINT_URL_<SERVICE>` > `AWS_ENDPOINT_URL` > the profile's `services` section
    /// `<service> = endpoint_url = …` > the profile's `endpoint_url`. Nil when none is set or
    /// `ignore_configured_endpoint_urls` is on.
    public func configuredEndpointURL(for service: AWSServiceDescriptor) throws(ConfigurationError) -> String? {
        guard !ignoresConfiguredEndpointURLs else { return nil }
        var candidates: [(String?, String)] = [
            (environment[service.endpointEnvironmentVariable], service.endpointEnvironmentVariable),
            (environment["AWS_ENDPOINT_URL"], "AWS_ENDPOINT_URL"),
        ]
        if let profile {
            if let servicesName = profile["services"] {
                let value = sharedConfig.services(named: servicesName)?.subProperties[service.configKey]?["endpoint_url"]
                candidates.append((value, "\(service.configKey).endpoint_url in [services \(servicesName)]"))
            }
            candidates.append((profile["endpoint_url"], "endpoint_url in profile \(profile.name)"))
        }
        guard let (url, origin) = candidates.first(where: { $0.0?.isEmpty == false }), let url else { return nil }
        let lower = url.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
            throw ConfigurationError(kind: .invalidValue, message: "\(origin) must be an http or https URL")
        }
        return url
    }

    /// Where to send `service`'s requests: the configured endpoint if any, else the standard one.
    public func endpoint(for service: AWSServiceDescriptor) throws(ConfigurationError) -> AWSEndpoint {
        let signingRegion: String
        if service.isGlobal {
            signingRegion = AWSEndpoint.standard(for: service, region: region ?? "us-east-1").signingRegion
        } else {
            signingRegion = try requireRegion()
        }
        if let url = try configuredEndpointURL(for: service) {
            return AWSEndpoint(url: url, signingRegion: signingRegion, signingName: service.signingName, isConfigured: true)
        }
        return AWSEndpoint.standard(for: service, region: region ?? signingRegion, regionalSTS: usesRegionalSTS)
    }
}

extension AWSConfiguration {
    /// The transport settings these AWS settings call for: today the CA bundle (TLS verification
    /// stays on; the bundle says which CAs to trust).
    public var transportConfiguration: CurlTransport.Configuration {
        CurlTransport.Configuration(caBundlePath: caBundlePath)
    }
}

/// The stored environment and profile may hold secret keys; show only the resolved settings.
extension AWSConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "AWSConfiguration(profile: \(profileName), region: \(region ?? "none"), maxAttempts: \(maxAttempts.map(String.init) ?? "default"), retryMode: \(retryMode?.rawValue ?? "default"), caBundle: \(caBundlePath ?? "default"))"
    }
    public var debugDescription: String { description }
}
