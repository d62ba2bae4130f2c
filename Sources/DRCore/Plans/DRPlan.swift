import Foundation

/// The DR plan (`drplan.yaml`): where things run (sites), what each provider protects there (its
/// section: `aws:`, `postgres:` …), and the budgets. `drctl failover`, `switchover`, `status` and
/// drills read it; it is validated like a runbook. DRCore reads only the cloud-neutral parts; each
/// section is its provider's (`PlanSectionKind`).
public struct DRPlan: Sendable, Equatable {
    public var name: String
    /// Where the plan's services run in normal times.
    public var primarySite: Site
    /// Where they can move, in order of preference (the first is the default DR site).
    public var drSites: [Site]
    public var budgets: RunbookBudgets
    /// Cron expression of the drill schedule (default: quarterly).
    public var drillSchedule: String
    /// Runbooks to run instead of the generated ones, by kind ("failover", "switchover") and target site.
    public var runbooks: [String: [String: String]]
    public var source: RunbookSource
    /// How `drctl drill run` restores, validates and bounds a drill (`drills:` in the plan).
    public var drill: Drill = Drill()
    public var description: String = ""
    /// Where the plan names its resources (its first provider section, else the top of the file):
    /// a move that finds nothing to do is reported there.
    public var resourcesLocation = FileLocation()
    /// The providers' sections by key, and the keys in the order providers were registered.
    public private(set) var sections: [String: any PlanSection] = [:]
    public private(set) var sectionKeys: [String] = []

    public init(name: String, primarySite: Site, drSites: [Site], budgets: RunbookBudgets, drillSchedule: String,
                runbooks: [String: [String: String]] = [:], source: RunbookSource) {
        self.name = name
        self.primarySite = primarySite
        self.drSites = drSites
        self.budgets = budgets
        self.drillSchedule = drillSchedule
        self.runbooks = runbooks
        self.source = source
    }

    /// The primary site as written (a bare region for AWS).
    public var primaryRegion: String { primarySite.description }
    /// The first DR site as written.
    public var drRegion: String { drSites.first?.description ?? "" }
    public var drSite: Site? { drSites.first }

    public func section<Section: PlanSection>(_ key: String, as type: Section.Type) -> Section? { sections[key] as? Section }

    public mutating func setSection(_ key: String, _ section: any PlanSection) {
        if sections[key] == nil { sectionKeys.append(key) }
        sections[key] = section
    }

    /// Every site the plan names: its declared sites and those its resources are in.
    public var sites: Set<Site> {
        var all = Set([primarySite] + drSites)
        for section in sections.values { all.formUnion(section.sites) }
        return all
    }

    /// Every site the plan names, as written (`us-west-2`, `gcp:us-central1`).
    public var regions: Set<String> { Set(sites.map(\.description)) }

    /// "its regions: us-east-1, us-west-2" (a plan all in AWS, worded as before sites existed) or
    /// "its sites: gcp:us-central1, us-east-1, …": for messages about a site the plan does not name.
    public var siteListing: String {
        let names = regions.sorted().joined(separator: ", ")
        return sites.allSatisfy { $0.cloud == Site.defaultCloud } ? "its regions: \(names)" : "its sites: \(names)"
    }

    /// The site a name on the command line or in the plan means (`us-west-2`, `aws:us-west-2`,
    /// `gcp:us-central1`), if the plan names it.
    public func site(named text: String) -> Site? {
        guard let site = Site(parsing: text) else { return nil }
        return sites.contains(site) ? site : nil
    }

    /// The site a move to `to` leaves when none is named: the primary, for a move to one of the
    /// DR sites; the first DR site for a move back to the primary (or to a region only the plan's
    /// resources name, as before sites existed).
    public func defaultOrigin(movingTo to: Site) -> Site {
        drSites.contains(to) ? primarySite : (drSite ?? primarySite)
    }

    /// A site name the plan does not know: an empty one is named as such (a blank `--to ""`).
    private func unknown(_ text: String, role: String) -> UnknownSite {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return UnknownSite(message: "the \(role) site is empty: expected one of plan \(name)'s sites (\(siteListing))") }
        return UnknownSite(message: "plan \(name) has nothing in \(text) (\(siteListing))")
    }

    /// The move a command names: `to` any site of the plan, `from` one too (default: `defaultOrigin`).
    /// A site the plan does not name, or the same site twice, is a usage error with the plan's sites listed.
    public func move(_ kind: Move.Kind, to target: String, from origin: String?) throws(UnknownSite) -> Move {
        guard let to = site(named: target) else { throw unknown(target, role: "target") }
        var from = defaultOrigin(movingTo: to)
        if let origin {
            guard let named = site(named: origin) else { throw unknown(origin, role: "origin (--from)") }
            from = named
        }
        guard from != to else { throw UnknownSite(message: "--from and --to are both \(to)") }
        return Move(kind: kind, from: from, to: to)
    }

    public struct UnknownSite: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }

    /// The runbook file the plan names for a move (`runbooks:`), relative paths read from the
    /// plan's folder; nil: the move runs the generated runbook.
    public func runbookFile(for kind: Move.Kind, to site: Site) -> String? {
        guard let file = runbooks[kind.rawValue]?[site.description] else { return nil }
        if file.hasPrefix("/") { return file }
        return URL(fileURLWithPath: source.path).deletingLastPathComponent().appendingPathComponent(file).path
    }

    /// Why a move from `from` to `to` has nothing to do — no provider section has work for it —
    /// located in the plan; nil when it has something.
    public func nothingToMove(from: Site, to: Site) -> RunbookValidationError? {
        guard !sections.values.contains(where: { $0.hasWork(from: from, to: to) }) else { return nil }
        return RunbookValidationError(problems: [RunbookProblem(location: resourcesLocation, message: """
            found a plan that protects nothing that can move from \(from) to \(to), expected a database with its primary in \(from) \
            and a replica in \(to), a DNS record, or standby capacity in \(to)
            """)])
    }

    public static func == (lhs: DRPlan, rhs: DRPlan) -> Bool {
        lhs.name == rhs.name && lhs.primarySite == rhs.primarySite && lhs.drSites == rhs.drSites && lhs.budgets == rhs.budgets
            && lhs.drillSchedule == rhs.drillSchedule && lhs.runbooks == rhs.runbooks && lhs.source == rhs.source && lhs.drill == rhs.drill
            && lhs.description == rhs.description && lhs.resourcesLocation == rhs.resourcesLocation && lhs.sectionKeys == rhs.sectionKeys
            && lhs.sectionKeys.allSatisfy { key in lhs.sections[key].map { section in rhs.sections[key].map { section.isEqual(to: $0) } ?? false } ?? false }
    }
}
