/// Where to send a service's requests and which region to sign for.
public struct AWSEndpoint: Sendable, Equatable {
    /// Scheme, host and optional port and base path, without a trailing slash.
    public var url: String
    public var signingRegion: String
    /// True when it came from `AWS_ENDPOINT_URL*` or the config file (tests, LocalStack, moto).
    public var isOverride: Bool

    public init(url: String, signingRegion: String, isOverride: Bool = false) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.signingRegion = signingRegion
        self.isOverride = isOverride
    }

    /// The public AWS endpoint of a service in a region.
    /// https://docs.aws.amazon.com/general/latest/gr/rande.html
    public static func standard(for service: AWSServiceDescriptor, region: String) -> AWSEndpoint {
        if let global = service.globalEndpoint {
            return AWSEndpoint(url: "https://\(global.host)", signingRegion: global.signingRegion)
        }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return AWSEndpoint(url: "https://\(service.endpointPrefix).\(region).\(suffix)", signingRegion: region)
    }
}

/// Chooses the endpoint for a service and region (overrides first, then the public endpoint).
public protocol AWSEndpointResolving: Sendable {
    func endpoint(for service: AWSServiceDescriptor, region: String) -> AWSEndpoint
}

/// The public endpoints, or a single override for every service (what `AWS_ENDPOINT_URL` does).
public struct StaticEndpointResolver: AWSEndpointResolving {
    public let overrideURL: String?

    public init(overrideURL: String? = nil) { self.overrideURL = overrideURL }

    public func endpoint(for service: AWSServiceDescriptor, region: String) -> AWSEndpoint {
        guard let overrideURL else { return .standard(for: service, region: region) }
        let signingRegion = service.globalEndpoint?.signingRegion ?? region
        return AWSEndpoint(url: overrideURL, signingRegion: signingRegion, isOverride: true)
    }
}
