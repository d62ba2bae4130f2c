import Yams

/// A provider's part of a DR plan (`aws:`, `postgres:` …), decoded and validated by the provider
/// and kept by the plan as an opaque value that only its provider reads.
public protocol PlanSection: Sendable {
    /// Every site the section's resources are in: a move may go to any site of the plan.
    var sites: Set<Site> { get }
    /// Whether a move from `from` to `to` has something to do here (a database to promote, a record
    /// to change, capacity to bring up).
    func hasWork(from: Site, to: Site) -> Bool
    /// Value equality across the existential (plans are compared in tests and by `validate`).
    func isEqual(to other: any PlanSection) -> Bool
}

extension PlanSection where Self: Equatable {
    public func isEqual(to other: any PlanSection) -> Bool { (other as? Self) == self }
}

/// How a provider reads its section of a plan: the key it owns, the clouds whose sites it knows
/// how to spell, and the decoder. Registered once per provider (see the README, "adding a provider").
public protocol PlanSectionKind: Sendable {
    /// The plan's key for this provider's section (`aws`, `postgres`), also its actions' prefix.
    var key: String { get }
    /// The clouds whose sites this provider serves (none for providers whose resources live in
    /// any cloud, like self-managed PostgreSQL).
    var clouds: [SiteCloud] { get }
    /// Reads the section; every problem goes to `decoder`, located.
    func decode(_ node: Node, context: PlanContext, decoder: inout PlanSectionDecoder) -> (any PlanSection)?
}

/// What a section's decoder knows of the rest of the plan.
public struct PlanContext: Sendable {
    /// The sites the plan declares (`sites:` / `regions:`), primary first.
    public let declaredSites: [Site]
    /// Every cloud a site may be in, by name.
    public let clouds: [String: SiteCloud]
    /// Where the section's key is written (`aws:`), for problems of the section as a whole.
    public var sectionLocation = FileLocation()
}

/// The located decoding helpers of runbooks and plans, for a provider's section: each failure is
/// recorded as "found X, expected Y" at its line and column, and decoding goes on.
public struct PlanSectionDecoder: LocatedYAMLDecoding {
    public let path: String
    public var problems: [RunbookProblem] = []
    var visitedNodes: Int
    var nodeBudgetExceeded: Bool
    var nodeLimit: Int { RunbookLoader.Limits.plan.maximumNodes }
    let clouds: [String: SiteCloud]

    init(path: String, visitedNodes: Int, nodeBudgetExceeded: Bool, clouds: [String: SiteCloud]) {
        self.path = path
        self.visitedNodes = visitedNodes
        self.nodeBudgetExceeded = nodeBudgetExceeded
        self.clouds = clouds
    }

    public func location(of node: Node?) -> FileLocation { location(node) }
    public mutating func report(_ node: Node?, _ message: String) { problem(node, message) }
    public mutating func report(at location: FileLocation, _ message: String) { problem(at: location, message) }
    public mutating func entries(_ node: Node, keys: [String]?, required: [String], what: String) -> [String: (key: Node, value: Node)]? {
        mapping(node, keys: keys, required: required, what: what)
    }
    public mutating func items(_ node: Node?, what: String) -> [Node] {
        guard let node, visit(node) else { return [] }
        guard case .sequence(let sequence) = node else {
            problem(node, "found \(describe(node)), expected a list for \(what)")
            return []
        }
        return Array(sequence)
    }
    public mutating func text(_ node: Node, what: String) -> String? { string(node, what: what) }
    public mutating func texts(_ node: Node, what: String) -> [(String, Node)] { stringList(node, what: what) }
    public mutating func integer(_ node: Node, what: String, in range: ClosedRange<Int>) -> Int? { int(node, what: what, in: range) }
    public mutating func flag(_ node: Node, what: String) -> Bool? { bool(node, what: what) }
    /// Any YAML value as a runbook value (numbers, strings, lists, maps).
    public mutating func runValue(_ node: Node) -> RunValue? { value(node) }
    public mutating func seconds(_ node: Node, what: String, allowZero: Bool = true) -> Double? { duration(node, what: what, allowZero: allowZero) }

    /// A site (`gcp:us-central1`, or a bare AWS region) in a cloud this build knows, spelled as
    /// that cloud spells its regions. `cloud` restricts it to one cloud (an AWS section's regions).
    public mutating func site(_ node: Node, what: String, cloud: String? = nil) -> Site? {
        guard let text = string(node, what: what) else { return nil }
        return Self.site(text, node: node, what: what, cloud: cloud, clouds: clouds, report: { problem(node, $0) })
    }

    static func site(_ text: String, node: Node, what: String, cloud only: String?, clouds: [String: SiteCloud],
                     report: (String) -> Void) -> Site? {
        guard let site = Site(parsing: text) else {
            report("found '\(text)', expected a site such as us-east-1, gcp:us-central1 or azure:eastus for \(what)")
            return nil
        }
        guard let cloud = clouds[site.cloud] else {
            report("found the cloud '\(site.cloud)' in '\(text)', expected one of \(clouds.keys.sorted().joined(separator: ", ")) for \(what)"
                   + NameSuggestions.hint(for: site.cloud, among: clouds.keys.sorted()))
            return nil
        }
        if let only, only != site.cloud {
            report("found '\(text)', expected a region of \(only) such as \(clouds[only]?.example ?? "?") for \(what)")
            return nil
        }
        guard cloud.isRegion(site.region) else {
            let described = site.cloud == "aws" ? "an AWS region" : "a \(site.cloud) region"
            report("found '\(text)', expected \(described) such as \(cloud.example) for \(what)")
            return nil
        }
        return site
    }
}
