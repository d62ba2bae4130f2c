import AWSProvider
import DRCore
import Foundation

/// Everything a command needs to call AWS, built once from the environment, the shared config
/// files and the command's `--profile` / `--region`.
struct AWSContext {
    let configuration: AWSConfiguration
    let transport: CurlTransport
    let endpoints: ConfiguredEndpointResolver
    let credentials: any CredentialProvider
    let client: AWSClient

    init(options: AWSOptions, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        try self.init(profile: options.profile, region: options.region, environment: environment)
    }

    init(profile: String?, region: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        configuration = try AWSConfiguration(environment: environment, profile: profile, region: region)
        transport = CurlTransport(configuration: configuration.transportConfiguration)
        endpoints = ConfiguredEndpointResolver(configuration: configuration)
        let sts = STSTokenService(transport: transport, endpoints: endpoints)
        credentials = DefaultCredentialChain.make(environment: environment, profile: profile, transport: transport, sts: sts)
        let retry = RetryStrategy(maxAttempts: configuration.maxAttempts ?? 3)
        client = AWSClient(transport: transport, credentials: credentials, endpoints: endpoints, retry: retry,
                           userAgent: "drctl/\(DRCTLVersion.string)")
    }
}
