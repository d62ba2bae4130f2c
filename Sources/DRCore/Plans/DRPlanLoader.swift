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

    /// Whether `drctl validate` should read the file as a DR plan: a mapping with `regions` and no
    /// `steps`. Anything else is read as a runbook, whose errors say what a runbook needs.
    public static func isPlan(bytes: [UInt8]) -> Bool {
        guard let root = try? RunbookLoader.compose(bytes: bytes, path: "", what: ""), case .mapping(let top) = root else { return false }
        let keys = Set(top.keys.compactMap(\.string))
        return keys.contains("regions") && !keys.contains("steps")
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
    static let topLevelKeys = ["name", "description", "regions", "budgets", "drills", "aws", "runbooks"]
    /// Sections a plan may grow into, refused by name until this build can act on them: a failover
    /// that silently ignored half the plan would report a success that did not happen.
    static let unsupportedSections = [
        "gcp": "this drctl has no GCP provider yet and would ignore these resources",
        "azure": "this drctl has no Azure provider yet and would ignore these resources",
        "state": "a plan does not name its state store: pass --state or set DRCTL_STATE_URL",
    ]

    let path: String
    var problems: [RunbookProblem] = []
    var visitedNodes = 0
    var nodeBudgetExceeded = false
    /// Keys that must name one of the plan's regions (DNS values, standby, runbooks), checked once
    /// every section is read: (the key, its node, the mapping it is in).
    var regionKeys: [(name: String, node: Node, within: String)] = []

    init(path: String) { self.path = path }

    mutating func decode(_ root: Node, source: RunbookSource) -> DRPlan? {
        guard let top = mapping(root, keys: Self.topLevelKeys + Self.unsupportedSections.keys.sorted(), required: ["name", "regions"],
                                what: "the DR plan") else { return nil }
        for (section, reason) in Self.unsupportedSections.sorted(by: { $0.key < $1.key }) {
            if let entry = top[section] { problem(entry.key, "found the section '\(section)', expected only aws: \(reason)") }
        }
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
            if let rpo = entries["rpo"] { budgets.rpo = duration(rpo.value, what: "budgets.rpo", allowZero: false) }
            if let rto = entries["rto"] { budgets.rto = duration(rto.value, what: "budgets.rto", allowZero: false) }
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
        plan.description = top["description"].flatMap { string($0.value, what: "description") } ?? ""
        plan.drill = drill
        // Where "protects nothing" is reported: the aws section, or the whole plan without one.
        plan.resourcesLocation = location(top["aws"]?.key ?? root)
        if let aws = top["aws"]?.value { decodeAWS(aws, into: &plan) }
        if let runbooks = top["runbooks"]?.value, let kinds = mapping(runbooks, keys: ["failover", "switchover"], required: [], what: "runbooks") {
            for (kind, entry) in kinds {
                guard let byRegion = mapping(entry.value, keys: nil, required: [], what: "runbooks.\(kind)") else { continue }
                for (target, file) in byRegion {
                    regionKeys.append((target, file.key, "runbooks.\(kind)"))
                    if let path = string(file.value, what: "runbooks.\(kind).\(target)") { plan.runbooks[kind, default: [:]][target] = path }
                }
            }
        }
        checkRegionKeys(of: plan)
        return plan
    }

    /// A DNS value, a standby capacity or a runbook for a region the plan does not protect would
    /// never be used: most likely a typo of one it does.
    private mutating func checkRegionKeys(of plan: DRPlan) {
        let known = plan.protectedRegions.filter { !$0.isEmpty }.sorted()
        for key in regionKeys where !known.contains(key.name) {
            problem(key.node, "found unknown key '\(key.name)' in \(key.within), expected one of the plan's regions \(known.joined(separator: ", "))"
                    + NameSuggestions.hint(for: key.name, among: known))
        }
    }

    mutating func list(_ node: Node?, what: String) -> [Node] {
        guard let node else { return [] }
        guard visit(node) else { return [] }
        guard case .sequence(let sequence) = node else {
            problem(node, "found \(describe(node)), expected a list for \(what)")
            return []
        }
        return Array(sequence)
    }

    mutating func endpoint(_ node: Node, what: String) -> DRPlan.Endpoint? {
        guard let fields = mapping(node, keys: ["region", "instance"], required: ["region", "instance"], what: what),
              let regionName = fields["region"].flatMap({ region($0.value, what: "region") }),
              let instance = fields["instance"].flatMap({ string($0.value, what: "instance") }) else { return nil }
        return .init(region: regionName, instance: instance)
    }

    /// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `us-isob-east-1`: the shape of every AWS
    /// region's name (partition prefix, optional gov/iso infix, direction, number).
    mutating func region(_ node: Node, what: String) -> String? {
        guard let text = string(node, what: what) else { return nil }
        guard Self.isRegionName(text) else {
            problem(node, "found '\(text)', expected an AWS region such as us-east-1 for \(what)")
            return nil
        }
        return text
    }

    /// `^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$`
    static func isRegionName(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        func letters(_ part: Substring) -> Bool { !part.isEmpty && part.allSatisfy { ("a"..."z").contains($0) } }
        guard parts.count == 3 || parts.count == 4, parts[0].count == 2, letters(parts[0]),
              let number = parts.last, !number.isEmpty, number.allSatisfy({ ("0"..."9").contains($0) }),
              letters(parts[parts.count - 2]) else { return false }
        return parts.count == 3 || parts[1] == "gov" || (parts[1].hasPrefix("iso") && letters(parts[1]))
    }
}
