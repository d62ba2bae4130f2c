import DRCore

/// Which resources one declared permission of one AWS action touches, given the step's
/// arguments: the ARNs IAM authorizes the call against (Service Authorization Reference,
/// https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html,
/// "Resource types" of each action), and the tag conditions drctl itself makes true.
///
/// It adds resources to the actions' own declarations (`ActionPermission`), never permissions:
/// what is granted is what the action declares. A permission that does not apply to these
/// arguments (`rds:StopDBInstance` for a parameter-group fence) is dropped here.
struct AWSPermissionScope {
    let arn: AWSARN
    /// Turns the placeholder run id of a generated drill into a wildcard (names and tag values).
    let wildcard: @Sendable (String) -> String

    struct Scoped: Equatable {
        var resources: [String]
        var conditions: [PermissionCondition] = []
    }

    /// IAM actions that authorize only `Resource: "*"` (no resource types in the reference);
    /// they are granted in the one statement that says so, limited by `aws:RequestedRegion`.
    static let wildcardOnly: Set<String> = [
        "sts:GetCallerIdentity", "cloudwatch:GetMetricData", "autoscaling:DescribeAutoScalingGroups", "route53:ListHostedZones",
    ]

    /// nil: the permission is not needed with these arguments.
    func scope(action: String, permission: ActionPermission, arguments: [String: RunValue]) -> Scoped? {
        let iam = permission.name
        func text(_ key: String) -> String? { arguments[key]?.stringValue.map(wildcard) }
        let region = text("region") ?? ""
        if Self.wildcardOnly.contains(iam) {
            // Route 53 is global: IAM sees its calls in us-east-1.
            let requested = iam.hasPrefix("route53:") ? "us-east-1" : region
            return Scoped(resources: ["*"], conditions: [PermissionCondition("StringEquals", "aws:RequestedRegion", [requested])])
        }
        let service = iam.split(separator: ":").first.map(String.init) ?? ""
        switch service {
        case "rds": return rds(action: action, iam: iam, arguments: arguments, region: region, text: text)
        case "s3":
            let buckets = [text("bucket"), text("destination_bucket")].compactMap { $0 }
            if iam == "s3:GetObject" || iam == "s3:PutObject" { return Scoped(resources: buckets.map { arn.s3Object(bucket: $0) }) }
            return Scoped(resources: buckets.map { arn.s3Bucket($0) })
        case "secretsmanager":
            guard let secret = text("secret") else { return nil }
            let regions = [region, text("primary_region")].compactMap { $0 }
            return Scoped(resources: Array(Set(regions)).sorted().map { arn.secret(region: $0, name: secret) })
        case "route53":
            if iam == "route53:GetChange" { return Scoped(resources: [arn.route53Change]) }
            // A zone named by name is resolved when the move is prepared; here it is not known.
            let zone = text("zone_id").flatMap { $0.isEmpty ? nil : $0 }
            return Scoped(resources: [arn.hostedZone(zone ?? "*")])
        case "route53-recovery-cluster":
            return text("routing_control_arn").map { Scoped(resources: [$0]) }
        case "eks":
            guard let cluster = text("cluster"), let group = text("nodegroup") else { return nil }
            return Scoped(resources: [arn.nodegroup(region: region, cluster: cluster, nodegroup: group)])
        case "autoscaling":
            let bounded = arguments["min"] != nil || arguments["max"] != nil
            if iam == "autoscaling:UpdateAutoScalingGroup" && !bounded { return nil }
            if iam == "autoscaling:SetDesiredCapacity" && bounded { return nil }
            return text("group").map { Scoped(resources: [arn.autoScalingGroup(region: region, name: $0)]) }
        case "ecs":
            guard let cluster = text("cluster"), let service = text("service") else { return nil }
            return Scoped(resources: [arn.ecsService(region: region, cluster: cluster, service: service)])
        case "iam":
            // The preflight's policy simulation of the caller itself, a user or a role of the account
            // (its name is not the plan's to know).
            return Scoped(resources: [arn.iamPrincipals(kind: "user"), arn.iamPrincipals(kind: "role")])
        case "kms":
            // Used only with a key: the action's kms_key_id, or (preflight) the replica's own key,
            // known only when it runs.
            if action != "aws.rds.preflight" && arguments["kms_key_id"] == nil { return nil }
            let key = text("kms_key_id")
            return Scoped(resources: [key.map { $0.hasPrefix("arn:") ? $0 : arn.kmsKey(region: region, id: $0) } ?? arn.kmsKey(region: region, id: "*")])
        default:
            return Scoped(resources: ["*"])
        }
    }

    private func rds(action: String, iam: String, arguments: [String: RunValue], region: String, text: (String) -> String?) -> Scoped? {
        // Reads: anything of RDS in the regions the step reads (the source region too, for the preflight's fence check).
        if iam.hasPrefix("rds:Describe") || iam == "rds:ListTagsForResource" {
            let regions = Set([region, text("source_region")].compactMap { $0 })
            return Scoped(resources: regions.sorted().map { arn.rdsAll(region: $0) })
        }
        let instance = text("instance"), snapshot = text("snapshot")
        let tags = requestTags(arguments["tags"])
        switch iam {
        case "rds:CreateDBSnapshot":
            return Scoped(resources: [instance.map { arn.rds(region, "db", $0) }, snapshot.map { arn.rds(region, "snapshot", $0) }].compactMap { $0 },
                          conditions: tags.requested)
        case "rds:RestoreDBInstanceFromDBSnapshot":
            var resources = [instance.map { arn.rds(region, "db", $0) }, snapshot.map { arn.rds(region, "snapshot", $0) }].compactMap { $0 }
            if let group = text("subnet_group") { resources.append(arn.rds(region, "subgrp", group)) }
            return Scoped(resources: resources, conditions: tags.requested)
        case "rds:AddTagsToResource":
            // IAM checks it for tags given at creation, on the resource being created.
            guard !tags.requested.isEmpty || action == "aws.rds.create-snapshot" else { return nil }
            let created = action == "aws.rds.create-snapshot" || action == "aws.rds.copy-snapshot"
                ? snapshot.map { arn.rds(region, "snapshot", $0) } : instance.map { arn.rds(region, "db", $0) }
            return created.map { Scoped(resources: [$0], conditions: tags.requested) }
        case "rds:DeleteDBInstance":
            return instance.map { Scoped(resources: [arn.rds(region, "db", $0)], conditions: tags.resource) }
        case "rds:DeleteDBSnapshot":
            return snapshot.map { Scoped(resources: [arn.rds(region, "snapshot", $0)], conditions: tags.resource) }
        case "rds:PromoteReadReplica":
            let instances = arguments["instances"].flatMap { value -> [String]? in
                guard case .list(let items) = value else { return nil }
                return items.compactMap { $0.stringValue.map(wildcard) }
            } ?? []
            return Scoped(resources: instances.map { arn.rds(region, "db", $0) })
        case "rds:StopDBInstance", "rds:RebootDBInstance", "rds:ModifyDBInstance":
            let method = text("method") ?? "stop"
            if action == "aws.rds.fence-instance" {
                let needed: Set<String> = switch method {
                case "stop": ["rds:StopDBInstance"]
                case "parameter-group", "reboot-read-only": ["rds:ModifyDBInstance", "rds:RebootDBInstance"]
                default: ["rds:ModifyDBInstance", "rds:RebootDBInstance"]
                }
                guard needed.contains(iam) else { return nil }
            }
            var resources = [instance.map { arn.rds(region, "db", $0) }].compactMap { $0 }
            if iam == "rds:ModifyDBInstance", let group = text("parameter_group") { resources.append(arn.rds(region, "pg", group)) }
            return Scoped(resources: resources)
        default:
            return Scoped(resources: [instance.map { arn.rds(region, "db", $0) } ?? arn.rdsAll(region: region)])
        }
    }

    /// The tag conditions of a step that tags what it creates (`tags`; for a deletion, the tags its
    /// creation set): every tag drctl sets must be set to its value (a run id: any run's), so the
    /// same permissions cannot create untagged copies nor delete what a drill did not create.
    /// Only the actions that support the keys get them (reference, "Condition keys":
    /// CreateDBSnapshot, RestoreDBInstanceFromDBSnapshot and AddTagsToResource take
    /// `aws:RequestTag/…`; DeleteDBInstance and DeleteDBSnapshot take `aws:ResourceTag/…`);
    /// a condition on a key an action does not support would never match.
    private func requestTags(_ value: RunValue?) -> (requested: [PermissionCondition], resource: [PermissionCondition]) {
        guard case .map(let tags)? = value else { return ([], []) }
        var requested: [PermissionCondition] = [], resource: [PermissionCondition] = []
        for key in tags.keys.sorted() {
            guard let raw = tags[key]?.stringValue else { continue }
            let value = wildcard(raw)
            let test = value.contains("*") ? "StringLike" : "StringEquals"
            requested.append(PermissionCondition(test, "aws:RequestTag/\(key)", [value]))
            resource.append(PermissionCondition(test, "aws:ResourceTag/\(key)", [value]))
        }
        return (requested, resource)
    }
}
