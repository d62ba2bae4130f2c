import Foundation
import Yams

/// Reads and validates `drplan.yaml`; every problem located like a runbook's.
///
/// ```yaml
/// name: reference
/// regions: { primary: us-east-1, dr: us-west-2 }
/// budgets: { rpo: 1h, rto: 4h }
/// drills:
///   schedule: "0 6 1 1,4,7,10 *"
///   instance_class: db.t3.medium       # the drill copy's class
///   max_instance_class: db.t3.large    # cost guard
///   max_runtime: 2h                    # cost guard; also bounds the steps' timeouts
///   validation: { url_env: DRILL_DB_URL }
///   primary_url_env: PRIMARY_DB_URL    # heartbeat RPO
///   checks:
///     - { name: orders-recent, action: postgres.check-freshness, with: { table: orders, column: created_at, max_age: 1h } }
/// aws:
///   databases:
///     - name: orders
///       primary: { region: us-east-1, instance: orders-primary }
///       replicas: [ { region: us-west-2, instance: orders-replica } ]
///       fence: stop                    # stop | parameter-group | reboot-read-only | security-group
///       backup_retention_days: 30
///   buckets:
///     - { source: orders-docs, source_region: us-east-1, destination: orders-docs-dr, destination_region: us-west-2, storage_class: STANDARD_IA }
///   secrets:                           # each needs a replica where the applications will run
///     - { name: orders/db-credentials, region: us-east-1, promote_on_failover: true }
///   dns:
///     - zone_id: Z0123456789
///       name: app.example.com.
///       type: CNAME
///       ttl: 60
///       values: { us-east-1: [app-use1.example.com], us-west-2: [app-usw2.example.com] }
///   routing_controls: []
///   standby:
///     us-west-2:
///       eks_nodegroups: [ { cluster: dr, nodegroup: workers, min: 2, max: 20, desired: 6 } ]
/// runbooks: { failover: { us-west-2: failover-to-us-west-2.yaml } }
/// ```
public enum DRPlanLoader {
    public static func load(path: String) throws(RunbookValidationError) -> DRPlan {
        let bytes = try RunbookLoader.readFile(path: path, what: "a DR plan file")
        return try parse(bytes: bytes, path: path)
    }

    public static func parse(bytes: [UInt8], path: String) throws(RunbookValidationError) -> DRPlan {
        let root = try RunbookLoader.compose(bytes: bytes, path: path, what: "a DR plan mapping with name, regions and aws")
        var decoder = DRPlanDecoder(path: path)
        let plan = decoder.decode(root, source: RunbookSource(path: path, digest: Hex.encode(SHA256Digest.hash(bytes))))
        if let plan, decoder.problems.isEmpty { return plan }
        throw RunbookValidationError(problems: decoder.problems)
    }
}

struct DRPlanDecoder: LocatedYAMLDecoding {
    let path: String
    var problems: [RunbookProblem] = []
    var visitedNodes = 0
    var nodeBudgetExceeded = false

    init(path: String) { self.path = path }

    mutating func decode(_ root: Node, source: RunbookSource) -> DRPlan? {
        guard let top = mapping(root, keys: ["name", "description", "regions", "budgets", "drills", "aws", "gcp", "azure", "runbooks", "state"],
                                required: ["name", "regions"], what: "the DR plan") else { return nil }
        let name = top["name"].flatMap { string($0.value, what: "name") } ?? ""
        if !name.isEmpty && !RunbookDecoder.isName(name, allowUnderscore: false) {
            problem(top["name"]?.value, "found the name '\(name)', expected lower-case letters, digits and '-'")
        }
        var primary = "", dr = ""
        if let regions = top["regions"].flatMap({ mapping($0.value, keys: ["primary", "dr"], required: ["primary", "dr"], what: "regions") }) {
            primary = regions["primary"].flatMap { region($0.value, what: "regions.primary") } ?? ""
            dr = regions["dr"].flatMap { region($0.value, what: "regions.dr") } ?? ""
            if !primary.isEmpty && primary == dr { problem(regions["dr"]?.value, "found the primary region again, expected a different DR region") }
        }
        var budgets = RunbookBudgets(rpo: 3600, rto: 4 * 3600)
        if let node = top["budgets"]?.value, let entries = mapping(node, keys: ["rpo", "rto"], required: [], what: "budgets") {
            if let rpo = entries["rpo"] { budgets.rpo = duration(rpo.value, what: "budgets.rpo") }
            if let rto = entries["rto"] { budgets.rto = duration(rto.value, what: "budgets.rto") }
        }
        var schedule = "0 6 1 1,4,7,10 *"
        var drill = DRPlan.Drill()
        if let node = top["drills"]?.value, let entries = mapping(node, keys: ["schedule"] + DRPlan.Drill.keys, required: [], what: "drills") {
            drill = decodeDrill(entries)
            if let text = entries["schedule"].flatMap({ string($0.value, what: "drills.schedule") }) {
                do { _ = try CronSchedule(parsing: text) } catch let error as CronParseError {
                    problem(entries["schedule"]?.value, "drills.schedule: column \(error.column) of '\(text)'\(error.field.map { " (\($0))" } ?? ""): \(error.message)")
                } catch {
                    problem(entries["schedule"]?.value, "drills.schedule: \(error)")
                }
                schedule = text
            }
        }
        var plan = DRPlan(name: name, primaryRegion: primary, drRegion: dr, budgets: budgets, drillSchedule: schedule, databases: [],
                          buckets: [], records: [], routingControls: [], standby: [:], runbooks: [:], source: source)
        plan.drill = drill
        if let aws = top["aws"]?.value { decodeAWS(aws, into: &plan) }
        if let runbooks = top["runbooks"]?.value, let kinds = mapping(runbooks, keys: ["failover", "switchover"], required: [], what: "runbooks") {
            for (kind, entry) in kinds {
                guard let byRegion = mapping(entry.value, keys: nil, required: [], what: "runbooks.\(kind)") else { continue }
                for (target, file) in byRegion {
                    if let path = string(file.value, what: "runbooks.\(kind).\(target)") { plan.runbooks[kind, default: [:]][target] = path }
                }
            }
        }
        return plan
    }

    private mutating func decodeAWS(_ node: Node, into plan: inout DRPlan) {
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
            let retention = entry["backup_retention_days"].flatMap { int($0.value, what: "backup_retention_days") } ?? 7
            plan.databases.append(.init(name: name, primary: primary, replicas: replicas, fence: fence, fenceParameterGroup: group,
                                        fenceSecurityGroups: securityGroups, backupRetentionDays: retention))
        }
        for item in list(aws["buckets"]?.value, what: "aws.buckets") {
            guard let entry = mapping(item, keys: ["source", "source_region", "destination", "destination_region", "storage_class"],
                                      required: ["source", "source_region", "destination", "destination_region"], what: "a bucket pair") else { continue }
            plan.buckets.append(.init(source: entry["source"].flatMap { string($0.value, what: "source") } ?? "",
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
            plan.secrets.append(.init(name: name, region: entry["region"].flatMap { region($0.value, what: "region of secret \(name)") } ?? "",
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
                    values[regionName] = stringList(node.value, what: "values for \(regionName)").map(\.0)
                }
            }
            let type = entry["type"].flatMap { string($0.value, what: "type") } ?? "CNAME"
            if !["A", "AAAA", "CNAME", "TXT"].contains(type) { problem(entry["type"]?.value, "found type '\(type)', expected A, AAAA, CNAME or TXT") }
            plan.records.append(.init(zoneId: entry["zone_id"].flatMap { string($0.value, what: "zone_id") } ?? "",
                                      zoneName: entry["zone_name"].flatMap { string($0.value, what: "zone_name") },
                                      name: entry["name"].flatMap { string($0.value, what: "name") } ?? "", type: type,
                                      ttl: entry["ttl"].flatMap { int($0.value, what: "ttl") } ?? 60, values: values))
        }
        for item in list(aws["routing_controls"]?.value, what: "aws.routing_controls") {
            guard let entry = mapping(item, keys: ["arn", "region", "cluster_endpoints"], required: ["arn", "region", "cluster_endpoints"],
                                      what: "a routing control") else { continue }
            let endpoints = list(entry["cluster_endpoints"]?.value, what: "cluster_endpoints").compactMap { node -> DRPlan.RoutingControl.ClusterEndpoint? in
                guard let fields = mapping(node, keys: ["endpoint", "region"], required: ["endpoint", "region"], what: "a cluster endpoint"),
                      let url = fields["endpoint"].flatMap({ string($0.value, what: "endpoint") }),
                      let regionName = fields["region"].flatMap({ region($0.value, what: "region") }) else { return nil }
                return .init(endpoint: url, region: regionName)
            }
            plan.routingControls.append(.init(arn: entry["arn"].flatMap { string($0.value, what: "arn") } ?? "",
                                              region: entry["region"].flatMap { region($0.value, what: "region") } ?? "", clusterEndpoints: endpoints))
        }
        if let standby = aws["standby"]?.value, let regions = mapping(standby, keys: nil, required: [], what: "aws.standby") {
            for (regionName, node) in regions {
                guard let parts = mapping(node.value, keys: ["eks_nodegroups", "autoscaling_groups", "ecs_services"], required: [],
                                          what: "standby for \(regionName)") else { continue }
                var capacity = DRPlan.Standby(eksNodegroups: [], autoScalingGroups: [], ecsServices: [])
                for item in list(parts["eks_nodegroups"]?.value, what: "eks_nodegroups") {
                    guard let e = mapping(item, keys: ["cluster", "nodegroup", "min", "max", "desired"], required: ["cluster", "nodegroup", "desired"],
                                          what: "a node group") else { continue }
                    let desired = e["desired"].flatMap { int($0.value, what: "desired") } ?? 0
                    let minimum = e["min"].flatMap { int($0.value, what: "min") } ?? desired
                    let maximum = e["max"].flatMap { int($0.value, what: "max") } ?? desired
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
                                                            min: e["min"].flatMap { int($0.value, what: "min") },
                                                            max: e["max"].flatMap { int($0.value, what: "max") },
                                                            desired: e["desired"].flatMap { int($0.value, what: "desired") } ?? 0))
                }
                for item in list(parts["ecs_services"]?.value, what: "ecs_services") {
                    guard let e = mapping(item, keys: ["cluster", "service", "desired"], required: ["cluster", "service", "desired"], what: "an ECS service") else { continue }
                    capacity.ecsServices.append(.init(cluster: e["cluster"].flatMap { string($0.value, what: "cluster") } ?? "",
                                                      service: e["service"].flatMap { string($0.value, what: "service") } ?? "",
                                                      desired: e["desired"].flatMap { int($0.value, what: "desired") } ?? 0))
                }
                plan.standby[regionName] = capacity
            }
        }
    }

    private mutating func list(_ node: Node?, what: String) -> [Node] {
        guard let node else { return [] }
        guard visit(node) else { return [] }
        guard case .sequence(let sequence) = node else {
            problem(node, "found \(describe(node)), expected a list for \(what)")
            return []
        }
        return Array(sequence)
    }

    private mutating func endpoint(_ node: Node, what: String) -> DRPlan.Endpoint? {
        guard let fields = mapping(node, keys: ["region", "instance"], required: ["region", "instance"], what: what),
              let regionName = fields["region"].flatMap({ region($0.value, what: "region") }),
              let instance = fields["instance"].flatMap({ string($0.value, what: "instance") }) else { return nil }
        return .init(region: regionName, instance: instance)
    }

    /// Region names look like `us-east-1`, `eu-central-2`, `us-gov-west-1`.
    private mutating func region(_ node: Node, what: String) -> String? {
        guard let text = string(node, what: what) else { return nil }
        let parts = text.split(separator: "-")
        guard parts.count >= 3, Int(parts.last!) != nil, parts.allSatisfy({ $0.allSatisfy { $0.isLowercase || $0.isNumber } }) else {
            problem(node, "found '\(text)', expected an AWS region such as us-east-1 for \(what)")
            return nil
        }
        return text
    }
}
