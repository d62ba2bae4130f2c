/// Where to send a service's requests and how to sign them.
public struct AWSEndpoint: Sendable, Equatable, CustomStringConvertible {
    public let url: String
    public let signingRegion: String
    public let signingName: String
    /// True when the URL came from an endpoint override (`AWS_ENDPOINT_URL…` or the config file).
    public let isConfigured: Bool

    public init(url: String, signingRegion: String, signingName: String, isConfigured: Bool = false) {
        // Request paths start with "/": a configured "http://host/" must not produce "//".
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        self.url = url
        self.signingRegion = signingRegion
        self.signingName = signingName
        self.isConfigured = isConfigured
    }

    public var description: String { "\(url) (signing \(signingName) in \(signingRegion))" }

    /// The public endpoint of `service` in `region`. Route 53 is global: one endpoint per
    /// partition, signed for the partition's home region. STS is regional unless `regionalSTS`
    /// is false (`sts_regional_endpoints = legacy`) or there is no region.
    /// https://docs.aws.amazon.com/general/latest/gr/rande.html
    public static func standard(for service: AWSServiceDescriptor, region: String, regionalSTS: Bool = true) -> AWSEndpoint {
        let partition = Partition(region: region)
        if service.isGlobal {
            let host = partition == .aws ? "\(service.endpointPrefix).amazonaws.com"
                : partition == .china ? "\(service.endpointPrefix).amazonaws.com.cn"
                : "\(service.endpointPrefix).us-gov.amazonaws.com"
            return AWSEndpoint(url: "https://\(host)", signingRegion: partition.homeRegion, signingName: service.signingName)
        }
        if service == .sts, !regionalSTS || region == "aws-global", partition == .aws {
            return AWSEndpoint(url: "https://sts.amazonaws.com", signingRegion: "us-east-1", signingName: service.signingName)
        }
        return AWSEndpoint(url: "https://\(service.endpointPrefix).\(region).\(partition.dnsSuffix)",
                           signingRegion: region, signingName: service.signingName)
    }

    enum Partition {
        case aws, china, govCloud

        init(region: String) {
            if region.hasPrefix("cn-") { self = .china } else if region.hasPrefix("us-gov-") { self = .govCloud } else { self = .aws }
        }

        var dnsSuffix: String { self == .china ? "amazonaws.com.cn" : "amazonaws.com" }

        var homeRegion: String {
            switch self {
            case .aws: return "us-east-1"
            case .china: return "cn-northwest-1"
            case .govCloud: return "us-gov-west-1"
            }
        }
    }
}
