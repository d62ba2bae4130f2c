import DRCore
import Yams

/// Reads the `aws:` section of a DR plan: databases, bucket pairs, secrets, DNS records, routing
/// controls and standby capacity, every problem located; registers the `aws` cloud, whose sites
/// are AWS regions written bare (`us-east-1`) or as `aws:us-east-1`.
public struct AWSPlanSectionKind: PlanSectionKind {
    public static let cloud = "aws"
    /// RDS keeps automated backups 1 to 35 days; 0 would switch them off on the promoted primary.
    static let backupRetentionDays = 1...35
    /// Route 53 takes up to 2^31 - 1 s, but a record cached for more than a week cannot fail over.
    static let ttlSeconds = 0...604_800
    /// Nodes, instances or tasks of one node group, Auto Scaling group or ECS service.
    static let capacity = 0...10_000

    public init() {}

    public var key: String { Self.cloud }
    public var clouds: [SiteCloud] { [SiteCloud(name: Self.cloud, example: "us-east-1", isRegion: Self.isRegionName)] }

    public func decode(_ node: Node, context: PlanContext, decoder: inout PlanSectionDecoder) -> (any PlanSection)? {
        var reader = Reader(decoder: decoder)
        reader.read(node)
        reader.checkRegionKeys(declared: context.declaredSites)
        decoder = reader.decoder
        return reader.section
    }

    /// `^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$`: `us-east-1`, `eu-central-2`, `us-gov-west-1`,
    /// `us-isob-east-1` (partition prefix, optional gov/iso infix, direction, number).
    public static func isRegionName(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        func letters(_ part: Substring) -> Bool { !part.isEmpty && part.allSatisfy { ("a"..."z").contains($0) } }
        guard parts.count == 3 || parts.count == 4, parts[0].count == 2, letters(parts[0]),
              let number = parts.last, !number.isEmpty, number.allSatisfy({ ("0"..."9").contains($0) }),
              letters(parts[parts.count - 2]) else { return false }
        return parts.count == 3 || parts[1] == "gov" || (parts[1].hasPrefix("iso") && letters(parts[1]))
    }
}

/// The section's decoding, on the plan's located decoder.
private struct Reader {
    var decoder: PlanSectionDecoder
    var section = AWSPlanSection()
    /// Keys that must name one of the plan's regions (DNS values, standby), checked once the
    /// section is read: (the key, its node, the mapping it is in).
    var regionKeys: [(name: String, node: Node, within: String)] = []

    init(decoder: PlanSectionDecoder) { self.decoder = decoder }

    mutating func problem(_ node: Node?, _ message: String) { decoder.report(node, message) }
    mutating func mapping(_ node: Node, keys: [String]?, required: [String], what: String) -> [String: (key: Node, value: Node)]? {
        decoder.entries(node, keys: keys, required: required, what: what)
    }
    mutating func list(_ node: Node?, what: String) -> [Node] { decoder.items(node, what: what) }
    mutating func string(_ node: Node, what: String) -> String? { decoder.text(node, what: what) }
    mutating func stringList(_ node: Node, what: String) -> [(String, Node)] { decoder.texts(node, what: what) }
    mutating func int(_ node: Node, what: String, in range: ClosedRange<Int>) -> Int? { decoder.integer(node, what: what, in: range) }
    mutating func bool(_ node: Node, what: String) -> Bool? { decoder.flag(node, what: what) }
    mutating func region(_ node: Node, what: String) -> String? { decoder.site(node, what: what, cloud: AWSPlanSectionKind.cloud)?.region }

    mutating func endpoint(_ node: Node, what: String) -> AWSPlanSection.Endpoint? {
        guard let fields = mapping(node, keys: ["region", "instance"], required: ["region", "instance"], what: what),
              let regionName = fields["region"].flatMap({ region($0.value, what: "region") }),
              let instance = fields["instance"].flatMap({ string($0.value, what: "instance") }) else { return nil }
        return .init(region: regionName, instance: instance)
    }

    /// A DNS value or a standby capacity for a region the plan does not protect would never be
    /// used: most likely a typo of one it does.
    mutating func checkRegionKeys(declared: [Site]) {
        let known = section.protectedRegions.union(declared.map(\.description)).filter { !$0.isEmpty }.sorted()
        for key in regionKeys where !known.contains(key.name) || (key.within == "aws.standby" && !AWSPlanSectionKind.isRegionName(key.name)) {
            problem(key.node, "found unknown key '\(key.name)' in \(key.within), expected one of the plan's regions \(known.joined(separator: ", "))"
                    + NameSuggestions.hint(for: key.name, among: known))
        }
    }

    mutating func read(_ node: Node) {
        guard let aws = mapping(node, keys: ["databases", "buckets", "secrets", "dns", "routing_controls", "standby"], required: [], what: "aws") else { return }
        var names: Set<String> = []
        for item in list(aws["databases"]?.value, what: "aws.databases") {
            guard let entry = mapping(item, keys: ["name", "primary", "replicas", "fence", "fence_parameter_group", "fence_security_groups",
                                                   "backup_retention_days"],
                                      required: ["name", "primary", "replicas"], what: "a database") else { continue }
            let name = entry["name"].flatMap { string($0.value, what: "database name") } ?? ""
            if !names.insert(name).inserted { problem(entry["name"]?.value, "found the database name '\(name)' twice, expected unique names") }
            guard let primary = entry["primary"].flatMap({ endpoint($0.value, what: "primary of \(name)") }) else { continue }
            let replicas = list(entry["replicas"]?.value, what: "replicas of \(name)").compactMap { endpoint($0, what: "a replica of \(name)") }
            if replicas.isEmpty { problem(entry["replicas"]?.value, "found no replica, expected at least one replica for \(name)") }
            let fence = entry["fence"].flatMap { string($0.value, what: "fence") } ?? "stop"
            if !["stop", "parameter-group", "reboot-read-only", "security-group"].contains(fence) {
                problem(entry["fence"]?.value, "found fence '\(fence)', expected stop, parameter-group, reboot-read-only or security-group")
            }
            let group = entry["fence_parameter_group"].flatMap { string($0.value, what: "fence_parameter_group") }
            if (fence == "parameter-group" || fence == "reboot-read-only") && group == nil {
                problem(entry["fence"]?.value, "found fence \(fence) without fence_parameter_group, expected the read-only parameter group's name")
            }
            let securityGroups = entry["fence_security_groups"].map { stringList($0.value, what: "fence_security_groups").map(\.0) } ?? []
            if fence == "security-group" && securityGroups.isEmpty {
                problem(entry["fence"]?.value, "found fence security-group without fence_security_groups, expected the isolating VPC security groups' ids")
            }
            let retention = entry["backup_retention_days"].flatMap { int($0.value, what: "backup_retention_days", in: AWSPlanSectionKind.backupRetentionDays) } ?? 7
            section.databases.append(.init(name: name, primary: primary, replicas: replicas, fence: fence, fenceParameterGroup: group,
                                        fenceSecurityGroups: securityGroups, backupRetentionDays: retention))
        }
        for item in list(aws["buckets"]?.value, what: "aws.buckets") {
            guard let entry = mapping(item, keys: ["source", "source_region", "destination", "destination_region", "storage_class"],
                                      required: ["source", "source_region", "destination", "destination_region"], what: "a bucket pair") else { continue }
            section.buckets.append(.init(source: entry["source"].flatMap { string($0.value, what: "source") } ?? "",
                                      sourceRegion: entry["source_region"].flatMap { region($0.value, what: "source_region") } ?? "",
                                      destination: entry["destination"].flatMap { string($0.value, what: "destination") } ?? "",
                                      destinationRegion: entry["destination_region"].flatMap { region($0.value, what: "destination_region") } ?? "",
                                      storageClass: entry["storage_class"].flatMap { string($0.value, what: "storage_class") }))
        }
        for item in list(aws["secrets"]?.value, what: "aws.secrets") {
            guard let entry = mapping(item, keys: ["name", "region", "promote_on_failover"], required: ["name", "region"],
                                      what: "a secret") else { continue }
            let name = entry["name"].flatMap { string($0.value, what: "secret name") } ?? ""
            if name.hasPrefix("arn:") {
                problem(entry["name"]?.value, "found an ARN, expected the secret's name (an ARN names one region; its replicas have their own)")
            }
            section.secrets.append(.init(name: name, region: entry["region"].flatMap { region($0.value, what: "region of secret \(name)") } ?? "",
                                      promoteOnFailover: entry["promote_on_failover"].flatMap { bool($0.value, what: "promote_on_failover") } ?? false))
        }
        for item in list(aws["dns"]?.value, what: "aws.dns") {
            guard let entry = mapping(item, keys: ["zone_id", "zone_name", "name", "type", "ttl", "values"], required: ["name", "values"],
                                      what: "a DNS record") else { continue }
            if entry["zone_id"] == nil && entry["zone_name"] == nil {
                problem(item, "found a DNS record without its zone, expected zone_id or zone_name")
            }
            var values: [String: [String]] = [:]
            if let byRegion = entry["values"].flatMap({ mapping($0.value, keys: nil, required: [], what: "values") }) {
                for (regionName, node) in byRegion {
                    regionKeys.append((regionName, node.key, "values"))
                    values[regionName] = stringList(node.value, what: "values for \(regionName)").map(\.0)
                }
            }
            let type = entry["type"].flatMap { string($0.value, what: "type") } ?? "CNAME"
            if !["A", "AAAA", "CNAME", "TXT"].contains(type) { problem(entry["type"]?.value, "found type '\(type)', expected A, AAAA, CNAME or TXT") }
            section.records.append(.init(zoneId: entry["zone_id"].flatMap { string($0.value, what: "zone_id") } ?? "",
                                      zoneName: entry["zone_name"].flatMap { string($0.value, what: "zone_name") },
                                      name: entry["name"].flatMap { string($0.value, what: "name") } ?? "", type: type,
                                      ttl: entry["ttl"].flatMap { int($0.value, what: "ttl", in: AWSPlanSectionKind.ttlSeconds) } ?? 60, values: values))
        }
        for item in list(aws["routing_controls"]?.value, what: "aws.routing_controls") {
            guard let entry = mapping(item, keys: ["arn", "region", "cluster_endpoints"], required: ["arn", "region", "cluster_endpoints"],
                                      what: "a routing control") else { continue }
            let endpoints = list(entry["cluster_endpoints"]?.value, what: "cluster_endpoints").compactMap { node -> AWSPlanSection.RoutingControl.ClusterEndpoint? in
                guard let fields = mapping(node, keys: ["endpoint", "region"], required: ["endpoint", "region"], what: "a cluster endpoint"),
                      let url = fields["endpoint"].flatMap({ string($0.value, what: "endpoint") }),
                      let regionName = fields["region"].flatMap({ region($0.value, what: "region") }) else { return nil }
                return .init(endpoint: url, region: regionName)
            }
            section.routingControls.append(.init(arn: entry["arn"].flatMap { string($0.value, what: "arn") } ?? "",
                                              region: entry["region"].flatMap { region($0.value, what: "region") } ?? "", clusterEndpoints: endpoints))
        }
        if let standby = aws["standby"]?.value, let regions = mapping(standby, keys: nil, required: [], what: "aws.standby") {
            for (regionName, node) in regions {
                regionKeys.append((regionName, node.key, "aws.standby"))
                guard let parts = mapping(node.value, keys: ["eks_nodegroups", "autoscaling_groups", "ecs_services"], required: [],
                                          what: "standby for \(regionName)") else { continue }
                var capacity = AWSPlanSection.Standby(eksNodegroups: [], autoScalingGroups: [], ecsServices: [])
                for item in list(parts["eks_nodegroups"]?.value, what: "eks_nodegroups") {
                    guard let e = mapping(item, keys: ["cluster", "nodegroup", "min", "max", "desired"], required: ["cluster", "nodegroup", "desired"],
                                          what: "a node group") else { continue }
                    let desired = e["desired"].flatMap { int($0.value, what: "desired", in: AWSPlanSectionKind.capacity) } ?? 0
                    let minimum = e["min"].flatMap { int($0.value, what: "min", in: AWSPlanSectionKind.capacity) } ?? desired
                    let maximum = e["max"].flatMap { int($0.value, what: "max", in: AWSPlanSectionKind.capacity) } ?? desired
                    if !(minimum <= desired && desired <= maximum) {
                        problem(e["desired"]?.value, "found min \(minimum), desired \(desired), max \(maximum), expected min ≤ desired ≤ max")
                    }
                    capacity.eksNodegroups.append(.init(cluster: e["cluster"].flatMap { string($0.value, what: "cluster") } ?? "",
                                                        nodegroup: e["nodegroup"].flatMap { string($0.value, what: "nodegroup") } ?? "",
                                                        min: minimum, max: maximum, desired: desired))
                }
                for item in list(parts["autoscaling_groups"]?.value, what: "autoscaling_groups") {
                    guard let e = mapping(item, keys: ["group", "min", "max", "desired"], required: ["group", "desired"], what: "an Auto Scaling group") else { continue }
                    capacity.autoScalingGroups.append(.init(group: e["group"].flatMap { string($0.value, what: "group") } ?? "",
                                                            min: e["min"].flatMap { int($0.value, what: "min", in: AWSPlanSectionKind.capacity) },
                                                            max: e["max"].flatMap { int($0.value, what: "max", in: AWSPlanSectionKind.capacity) },
                                                            desired: e["desired"].flatMap { int($0.value, what: "desired", in: AWSPlanSectionKind.capacity) } ?? 0))
                }
                for item in list(parts["ecs_services"]?.value, what: "ecs_services") {
                    guard let e = mapping(item, keys: ["cluster", "service", "desired"], required: ["cluster", "service", "desired"], what: "an ECS service") else { continue }
                    capacity.ecsServices.append(.init(cluster: e["cluster"].flatMap { string($0.value, what: "cluster") } ?? "",
                                                      service: e["service"].flatMap { string($0.value, what: "service") } ?? "",
                                                      desired: e["desired"].flatMap { int($0.value, what: "desired", in: AWSPlanSectionKind.capacity) } ?? 0))
                }
                section.standby[regionName] = capacity
            }
        }
    }
}
