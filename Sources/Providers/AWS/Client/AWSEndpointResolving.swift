/// Chooses the endpoint for a service and region. The client asks per call, because one drctl
/// run talks to several regions (us-east-1 and us-west-2 in a failover).
public protocol AWSEndpointResolving: Sendable {
    func endpoint(for service: AWSServiceDescriptor, region: String) -> AWSEndpoint
}

/// The endpoint overrides of the environment and config file (`AWS_ENDPOINT_URL_<SERVICE>`,
/// `AWS_ENDPOINT_URL`, `[services]`, `endpoint_url`), else the public endpoint of the region.
public struct ConfiguredEndpointResolver: AWSEndpointResolving {
    public let configuration: AWSConfiguration

    public init(configuration: AWSConfiguration) { self.configuration = configuration }

    public func endpoint(for service: AWSServiceDescriptor, region: String) -> AWSEndpoint {
        let standard = AWSEndpoint.standard(for: service, region: region, regionalSTS: configuration.usesRegionalSTS)
        // A malformed override was already reported when the configuration was validated.
        guard let url = try? configuration.configuredEndpointURL(for: service) else { return standard }
        return AWSEndpoint(url: url, signingRegion: standard.signingRegion, signingName: service.signingName, isConfigured: true)
    }
}

/// The public endpoints, or one URL for every service (what `AWS_ENDPOINT_URL` does); for tests
/// and the benchmark, which have no config files.
public struct StaticEndpointResolver: AWSEndpointResolving {
    public let overrideURL: String?

    public init(overrideURL: String? = nil) { self.overrideURL = overrideURL }

    public func endpoint(for service: AWSServiceDescriptor, region: String) -> AWSEndpoint {
        let standard = AWSEndpoint.standard(for: service, region: region)
        guard let overrideURL else { return standard }
        return AWSEndpoint(url: overrideURL, signingRegion: standard.signingRegion, signingName: service.signingName, isConfigured: true)
    }
}
