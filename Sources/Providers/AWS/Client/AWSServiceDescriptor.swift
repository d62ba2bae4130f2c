/// What the shared client needs to know about one AWS service: how to find, sign and speak to it.
/// Values match botocore's `service-2.json` metadata (serviceId, signingName, endpointPrefix,
/// apiVersion, protocol, targetPrefix, jsonVersion).
public struct AWSServiceDescriptor: Sendable, Equatable {
    public enum WireProtocol: String, Sendable {
        case query, restXML = "rest-xml", json, restJSON = "rest-json"
    }

    /// The service id of the SDKs, e.g. "RDS", "Route 53"; `AWS_ENDPOINT_URL_<ID>` derives from it.
    public let serviceId: String
    public let signingName: String
    public let endpointPrefix: String
    public let apiVersion: String
    public let wireProtocol: WireProtocol
    /// JSON protocol only: `X-Amz-Target` prefix and content-type version ("1.0" or "1.1").
    public let targetPrefix: String?
    public let jsonVersion: String?
    /// Services with one global endpoint (Route 53, IAM) sign for this region whatever the caller's.
    public let globalEndpoint: (host: String, signingRegion: String)?
    public let signerOptions: SigV4Signer.Options

    public init(serviceId: String, signingName: String, endpointPrefix: String, apiVersion: String,
                wireProtocol: WireProtocol, targetPrefix: String? = nil, jsonVersion: String? = nil,
                globalEndpoint: (host: String, signingRegion: String)? = nil, signerOptions: SigV4Signer.Options = .standard) {
        self.serviceId = serviceId
        self.signingName = signingName
        self.endpointPrefix = endpointPrefix
        self.apiVersion = apiVersion
        self.wireProtocol = wireProtocol
        self.targetPrefix = targetPrefix
        self.jsonVersion = jsonVersion
        self.globalEndpoint = globalEndpoint
        self.signerOptions = signerOptions
    }

    /// Served from one partition-wide endpoint signed for the partition's home region.
    public var isGlobal: Bool { globalEndpoint != nil }

    /// `AWS_ENDPOINT_URL_<ID>`: the service ID upper-cased with spaces as underscores.
    /// https://docs.aws.amazon.com/sdkref/latest/guide/ss-endpoints-table.html
    public var endpointEnvironmentVariable: String {
        "AWS_ENDPOINT_URL_" + serviceId.uppercased().replacingOccurrences(of: " ", with: "_")
    }

    /// The key in a `[services]` section of the config file: lower-cased, spaces as underscores.
    public var configKey: String {
        serviceId.lowercased().replacingOccurrences(of: " ", with: "_")
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.serviceId == rhs.serviceId && lhs.apiVersion == rhs.apiVersion
    }
}

extension AWSServiceDescriptor {
    public static let sts = AWSServiceDescriptor(serviceId: "STS", signingName: "sts", endpointPrefix: "sts",
                                                 apiVersion: "2011-06-15", wireProtocol: .query)
    public static let rds = AWSServiceDescriptor(serviceId: "RDS", signingName: "rds", endpointPrefix: "rds",
                                                 apiVersion: "2014-10-31", wireProtocol: .query)
    public static let autoScaling = AWSServiceDescriptor(serviceId: "Auto Scaling", signingName: "autoscaling",
                                                         endpointPrefix: "autoscaling", apiVersion: "2011-01-01", wireProtocol: .query)
    public static let cloudWatch = AWSServiceDescriptor(serviceId: "CloudWatch", signingName: "monitoring",
                                                        endpointPrefix: "monitoring", apiVersion: "2010-08-01", wireProtocol: .query)
    public static let s3 = AWSServiceDescriptor(serviceId: "S3", signingName: "s3", endpointPrefix: "s3",
                                                apiVersion: "2006-03-01", wireProtocol: .restXML, signerOptions: .s3)
    public static let route53 = AWSServiceDescriptor(serviceId: "Route 53", signingName: "route53", endpointPrefix: "route53",
                                                     apiVersion: "2013-04-01", wireProtocol: .restXML,
                                                     globalEndpoint: ("route53.amazonaws.com", "us-east-1"))
    public static let eks = AWSServiceDescriptor(serviceId: "EKS", signingName: "eks", endpointPrefix: "eks",
                                                 apiVersion: "2017-11-01", wireProtocol: .restJSON)
    public static let ecs = AWSServiceDescriptor(serviceId: "ECS", signingName: "ecs", endpointPrefix: "ecs",
                                                 apiVersion: "2014-11-13", wireProtocol: .json,
                                                 targetPrefix: "AmazonEC2ContainerServiceV20141113", jsonVersion: "1.1")
    public static let secretsManager = AWSServiceDescriptor(serviceId: "Secrets Manager", signingName: "secretsmanager",
                                                            endpointPrefix: "secretsmanager", apiVersion: "2017-10-17",
                                                            wireProtocol: .json, targetPrefix: "secretsmanager", jsonVersion: "1.1")
    public static let kms = AWSServiceDescriptor(serviceId: "KMS", signingName: "kms", endpointPrefix: "kms",
                                                 apiVersion: "2014-11-01", wireProtocol: .json,
                                                 targetPrefix: "TrentService", jsonVersion: "1.1")
    public static let iam = AWSServiceDescriptor(serviceId: "IAM", signingName: "iam", endpointPrefix: "iam",
                                                 apiVersion: "2010-05-08", wireProtocol: .query,
                                                 globalEndpoint: ("iam.amazonaws.com", "us-east-1"))
    /// Route 53 ARC's data plane: always called on an explicit regional cluster endpoint, never
    /// through endpoint resolution (it keeps working when Route 53's us-east-1 control plane does not).
    /// https://docs.aws.amazon.com/routing-control/latest/APIReference/API_UpdateRoutingControlState.html
    public static let route53RecoveryCluster = AWSServiceDescriptor(
        serviceId: "Route53 Recovery Cluster", signingName: "route53-recovery-cluster",
        endpointPrefix: "route53-recovery-cluster", apiVersion: "2019-12-02", wireProtocol: .json,
        targetPrefix: "ToggleCustomerAPI", jsonVersion: "1.0")
}
