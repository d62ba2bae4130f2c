import Foundation
import Yams

/// Reads and validates `drplan.yaml`; every problem located like a runbook's.
///
/// ```yaml
/// name: reference
/// sites: { primary: us-east-1, dr: [us-west-2, gcp:us-central1, azure:eastus] }   # or regions: (the old name)
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
    /// Reads a plan whose provider sections are those of `sections` (one per registered provider).
    public static func load(path: String, sections: [any PlanSectionKind]) throws(RunbookValidationError) -> DRPlan {
        let bytes = try RunbookLoader.readFile(path: path, what: "a DR plan file", maximumBytes: RunbookLoader.Limits.plan.maximumBytes)
        return try parse(bytes: bytes, path: path, sections: sections)
    }

    /// Whether `drctl validate` should read the file as a DR plan: a mapping without `steps` that
    /// has a key only plans have (`sites`, `regions`, `drills`, `runbooks`, a provider's section).
    /// Anything else is read as a runbook, whose errors say what a runbook needs.
    public static func isPlan(bytes: [UInt8], sections: [any PlanSectionKind]) -> Bool {
        guard let root = try? RunbookLoader.compose(bytes: bytes, path: "", what: "", maximumBytes: RunbookLoader.Limits.plan.maximumBytes),
              case .mapping(let top) = root else { return false }
        let keys = Set(top.keys.compactMap(\.string))
        let planOnly = Set(["sites", "regions", "drills", "runbooks"] + sections.map(\.key))
        return !keys.contains("steps") && !keys.isDisjoint(with: planOnly)
    }

    public static func parse(bytes: [UInt8], path: String, sections: [any PlanSectionKind]) throws(RunbookValidationError) -> DRPlan {
        let root = try RunbookLoader.compose(bytes: bytes, path: path, what: "a DR plan mapping with name, sites and a provider section such as aws",
                                             maximumBytes: RunbookLoader.Limits.plan.maximumBytes)
        var decoder = DRPlanDecoder(path: path, kinds: sections)
        let plan = decoder.decode(root, source: RunbookSource(path: path, digest: Hex.encode(SHA256Digest.hash(bytes))))
        if let plan, decoder.problems.isEmpty { return plan }
        throw RunbookValidationError(problems: decoder.problems)
    }
}

struct DRPlanDecoder: LocatedYAMLDecoding {
    static let commonKeys = ["name", "description", "sites", "regions", "budgets", "drills", "runbooks"]
    /// Sections a plan may grow into, refused by name: a failover that silently ignored part of
    /// the plan would report a success that did not happen.
    static let unsupportedSections = [
        "state": "a plan does not name its state store: pass --state or set DRCTL_STATE_URL",
    ]

    let path: String
    let kinds: [any PlanSectionKind]
    let clouds: [String: SiteCloud]
    var problems: [RunbookProblem] = []
    var visitedNodes = 0
    var nodeBudgetExceeded = false
    var nodeLimit: Int { RunbookLoader.Limits.plan.maximumNodes }
    /// Keys that must name one of the plan's sites (runbooks), checked once every section is read:
    /// (the key, its node, the mapping it is in).
    var siteKeys: [(name: String, node: Node, within: String)] = []

    init(path: String, kinds: [any PlanSectionKind]) {
        self.path = path
        self.kinds = kinds
        clouds = Dictionary(kinds.flatMap(\.clouds).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    mutating func decode(_ root: Node, source: RunbookSource) -> DRPlan? {
        let sectionKeys = kinds.map(\.key)
        guard let top = mapping(root, keys: Self.commonKeys + sectionKeys + Self.unsupportedSections.keys.sorted(), required: ["name"],
                                what: "the DR plan") else { return nil }
        for (section, reason) in Self.unsupportedSections.sorted(by: { $0.key < $1.key }) {
            if let entry = top[section] { problem(entry.key, "found the section '\(section)', expected only \(sectionKeys.joined(separator: ", ")): \(reason)") }
        }
        let name = top["name"].flatMap { string($0.value, what: "name") } ?? ""
        if !name.isEmpty && !RunbookDecoder.isName(name, allowUnderscore: false) {
            problem(top["name"]?.value, "found the name '\(name)', expected lower-case letters, digits and '-'")
        }
        let (primary, dr) = decodeSites(top, root: root)
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
        var plan = DRPlan(name: name, primarySite: primary ?? Site(cloud: "", region: ""), drSites: dr, budgets: budgets,
                          drillSchedule: schedule, source: source)
        plan.description = top["description"].flatMap { string($0.value, what: "description") } ?? ""
        plan.drill = drill
        // Where "protects nothing" is reported: the first provider section, or the whole plan without one.
        plan.resourcesLocation = location(kinds.lazy.compactMap { top[$0.key]?.key }.first ?? root)
        var context = PlanContext(declaredSites: (primary.map { [$0] } ?? []) + dr, clouds: clouds)
        for kind in kinds {
            guard let entry = top[kind.key] else { continue }
            let node = entry.value
            context.sectionLocation = location(entry.key)
            var sectionDecoder = PlanSectionDecoder(path: path, visitedNodes: visitedNodes, nodeBudgetExceeded: nodeBudgetExceeded, clouds: clouds)
            let section = kind.decode(node, context: context, decoder: &sectionDecoder)
            problems += sectionDecoder.problems
            visitedNodes = sectionDecoder.visitedNodes
            nodeBudgetExceeded = sectionDecoder.nodeBudgetExceeded
            if let section { plan.setSection(kind.key, section) }
        }
        if let runbooks = top["runbooks"]?.value, let byKind = mapping(runbooks, keys: ["failover", "switchover"], required: [], what: "runbooks") {
            for (kind, entry) in byKind {
                guard let bySite = mapping(entry.value, keys: nil, required: [], what: "runbooks.\(kind)") else { continue }
                // In file order: `us-west-2` and `aws:us-west-2` are one site, and which file a move
                // runs must not depend on which of the two a hash order sees last.
                for (target, file) in bySite.sorted(by: { ($0.value.key.mark?.line ?? 0, $0.value.key.mark?.column ?? 0) < ($1.value.key.mark?.line ?? 0, $1.value.key.mark?.column ?? 0) }) {
                    siteKeys.append((target, file.key, "runbooks.\(kind)"))
                    let site = Site(parsing: target)?.description ?? target
                    if plan.runbooks[kind]?[site] != nil {
                        problem(file.key, "found the site \(site) a second time in runbooks.\(kind) (as '\(target)'), expected one runbook per site")
                    } else if let path = string(file.value, what: "runbooks.\(kind).\(target)") {
                        plan.runbooks[kind, default: [:]][site] = path
                    }
                }
            }
        }
        checkSiteKeys(of: plan)
        return plan
    }

    /// `sites: { primary: SITE, dr: SITE or [SITE, …] }`, or the same under its old name `regions`.
    private mutating func decodeSites(_ top: [String: (key: Node, value: Node)], root: Node) -> (Site?, [Site]) {
        if let sites = top["sites"], let regions = top["regions"] {
            problem(regions.key, "found both sites and regions, expected sites only (regions is its old name)")
            _ = sites
        }
        guard let entry = top["sites"] ?? top["regions"] else {
            problem(root, "found no sites, expected sites: { primary: SITE, dr: [SITE, …] } (e.g. primary: us-east-1, dr: [us-west-2, gcp:us-central1])")
            return (nil, [])
        }
        let what = entry.key.string ?? "sites"
        guard let fields = mapping(entry.value, keys: ["primary", "dr"], required: ["primary", "dr"], what: what) else { return (nil, []) }
        let primary = fields["primary"].flatMap { site($0.value, what: "\(what).primary") }
        var dr: [Site] = []
        if let node = fields["dr"]?.value {
            let nodes: [Node]
            if case .sequence(let sequence) = node { nodes = Array(sequence) } else { nodes = [node] }
            if nodes.isEmpty { problem(node, "found an empty list, expected at least one DR site for \(what).dr") }
            for item in nodes {
                guard let site = site(item, what: "\(what).dr") else { continue }
                if site == primary {
                    problem(item, "found the primary site again, expected a different DR site")
                } else if dr.contains(site) {
                    problem(item, "found the DR site \(site) twice, expected each once")
                } else {
                    dr.append(site)
                }
            }
        }
        return (primary, dr)
    }

    mutating func site(_ node: Node, what: String) -> Site? {
        guard let text = string(node, what: what) else { return nil }
        let clouds = self.clouds
        var found: String?
        let site = PlanSectionDecoder.site(text, node: node, what: what, cloud: nil, clouds: clouds, report: { found = $0 })
        if let found { problem(node, found) }
        return site
    }

    /// A runbook for a site the plan does not name would never be used: most likely a typo of one it does.
    private mutating func checkSiteKeys(of plan: DRPlan) {
        let known = plan.regions.filter { !$0.isEmpty }.sorted()
        for key in siteKeys where !known.contains(Site(parsing: key.name)?.description ?? key.name) {
            problem(key.node, "found unknown key '\(key.name)' in \(key.within), expected one of the plan's sites \(known.joined(separator: ", "))"
                    + NameSuggestions.hint(for: key.name, among: known))
        }
    }
}
