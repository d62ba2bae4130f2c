/// ARNs of the resources drctl acts on, in one partition and account
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).
struct AWSARN: Sendable {
    let partition: String
    let account: String

    /// The partition of a region: `aws-cn` for China, `aws-us-gov` for GovCloud, else `aws`.
    static func partition(of region: String) -> String {
        if region.hasPrefix("cn-") { return "aws-cn" }
        if region.hasPrefix("us-gov-") { return "aws-us-gov" }
        return "aws"
    }

    func rds(_ region: String, _ type: String, _ name: String) -> String { "arn:\(partition):rds:\(region):\(account):\(type):\(name)" }
    /// Every RDS resource of a region (reads only).
    func rdsAll(region: String) -> String { "arn:\(partition):rds:\(region):\(account):*" }
    /// Every user or role of the account (IAM is global: no region).
    func iamPrincipals(kind: String) -> String { "arn:\(partition):iam::\(account):\(kind)/*" }
    func s3Bucket(_ bucket: String) -> String { "arn:\(partition):s3:::\(bucket)" }
    func s3Object(bucket: String) -> String { "arn:\(partition):s3:::\(bucket)/*" }
    /// A secret's ARN ends in `-` and six random characters that Secrets Manager adds to its name.
    func secret(region: String, name: String) -> String { "arn:\(partition):secretsmanager:\(region):\(account):secret:\(name)-??????" }
    func hostedZone(_ id: String) -> String { "arn:\(partition):route53:::hostedzone/\(id.replacingOccurrences(of: "/hostedzone/", with: ""))" }
    var route53Change: String { "arn:\(partition):route53:::change/*" }
    /// The node group's ARN ends in an id EKS assigns.
    func nodegroup(region: String, cluster: String, nodegroup: String) -> String {
        "arn:\(partition):eks:\(region):\(account):nodegroup/\(cluster)/\(nodegroup)/*"
    }
    /// The group's ARN carries an id Auto Scaling assigns before its name.
    func autoScalingGroup(region: String, name: String) -> String {
        "arn:\(partition):autoscaling:\(region):\(account):autoScalingGroup:*:autoScalingGroupName/\(name)"
    }
    func ecsService(region: String, cluster: String, service: String) -> String {
        "arn:\(partition):ecs:\(region):\(account):service/\(cluster)/\(service)"
    }
    func kmsKey(region: String, id: String) -> String { "arn:\(partition):kms:\(region):\(account):key/\(id)" }
}
