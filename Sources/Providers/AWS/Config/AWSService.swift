/// What endpoint resolution needs to know about a service.
/// `serviceId` is the SDK service ID (from the service model's `serviceId`), which names the
/// endpoint override settings: https://docs.aws.amazon.com/sdkref/latest/guide/ss-endpoints-table.html
public struct AWSService: Sendable, Hashable {
    public let serviceId: String
    /// The host label: `{prefix}.{region}.amazonaws.com`.
    public let endpointPrefix: String
    /// The SigV4 service name.
    public let signingName: String
    /// Served from one partition-wide endpoint signed for the partition's home region.
    public let isGlobal: Bool

    public init(serviceId: String, endpointPrefix: String, signingName: String? = nil, isGlobal: Bool = false) {
        self.serviceId = serviceId
        self.endpointPrefix = endpointPrefix
        self.signingName = signingName ?? endpointPrefix
        self.isGlobal = isGlobal
    }

    /// `AWS_ENDPOINT_URL_<ID>`: the service ID upper-cased with spaces as underscores.
    public var endpointEnvironmentVariable: String {
        "AWS_ENDPOINT_URL_" + serviceId.uppercased().replacingOccurrences(of: " ", with: "_")
    }

    /// The key in a `[services]` section: lower-cased with spaces as underscores.
    public var configKey: String {
        serviceId.lowercased().replacingOccurrences(of: " ", with: "_")
    }

    public static let s3 = AWSService(serviceId: "S3", endpointPrefix: "s3")
    public static let sts = AWSService(serviceId: "STS", endpointPrefix: "sts")
    public static let rds = AWSService(serviceId: "RDS", endpointPrefix: "rds")
    public static let route53 = AWSService(serviceId: "Route 53", endpointPrefix: "route53", isGlobal: true)
    public static let autoScaling = AWSService(serviceId: "Auto Scaling", endpointPrefix: "autoscaling")
    public static let secretsManager = AWSService(serviceId: "Secrets Manager", endpointPrefix: "secretsmanager")
    public static let eks = AWSService(serviceId: "EKS", endpointPrefix: "eks")
    public static let ecs = AWSService(serviceId: "ECS", endpointPrefix: "ecs")
    public static let cloudWatch = AWSService(serviceId: "CloudWatch", endpointPrefix: "monitoring")
    public static let ec2 = AWSService(serviceId: "EC2", endpointPrefix: "ec2")
    public static let dynamoDB = AWSService(serviceId: "DynamoDB", endpointPrefix: "dynamodb")
    public static let elasticLoadBalancingV2 = AWSService(serviceId: "Elastic Load Balancing v2",
                                                          endpointPrefix: "elasticloadbalancing")
}
