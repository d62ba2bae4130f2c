import DRCore
import Yams

/// The `postgres:` section of a DR plan: self-managed PostgreSQL (VMs, on-premises, a server in any
/// cloud that libpq reaches) with streaming standbys. Each server names the site it runs in and
/// the environment variable holding its URL — never the URL itself: passwords stay out of plans,
/// runbooks and the journal.
///
/// ```yaml
/// postgres:
///   databases:
///     - name: ledger
///       primary: { site: us-east-1, url_env: LEDGER_PRIMARY_URL }
///       standbys: [ { site: us-west-2, url_env: LEDGER_STANDBY_URL } ]
///       fence: read-only          # read-only (default) | terminate
///       checks:                   # after promotion, before traffic moves (optional)
///         - { name: ledger-recent, action: postgres.check-freshness, with: { table: entries, column: created_at, max_age: 1h } }
/// ```
public struct PostgresPlanSection: PlanSection, Equatable {
    public struct Server: Sendable, Equatable {
        public var site: Site
        public var urlEnv: String
    }

    public struct Check: Sendable, Equatable {
        public var name: String
        public var action: String
        public var with: [String: RunValue]
    }

    public struct Database: Sendable, Equatable {
        public var name: String
        public var primary: Server
        public var standbys: [Server]
        /// `read-only` | `terminate` (`postgres.fence`'s methods).
        public var fence: String
        public var checks: [Check]
        /// Where the plan names it, for errors about it found after decoding (a refused switchover).
        public var location = FileLocation()

        public func standby(in site: Site) -> Server? { standbys.first { $0.site == site } }
    }

    public var databases: [Database] = []

    public var sites: Set<Site> { Set(databases.flatMap { [$0.primary.site] + $0.standbys.map(\.site) }) }

    public func moving(from: Site, to: Site) -> [(database: Database, standby: Server)] {
        databases.compactMap { database in
            guard database.primary.site == from, let standby = database.standby(in: to) else { return nil }
            return (database, standby)
        }
    }

    public func hasWork(from: Site, to: Site) -> Bool { !moving(from: from, to: to).isEmpty }
}

/// Reads the `postgres:` section. PostgreSQL runs in any cloud: the section registers none.
public struct PostgresPlanSectionKind: PlanSectionKind {
    public static let key = "postgres"
    public static let fenceMethods = ["read-only", "terminate"]
    /// The actions a database's `checks` may name; `url` / `url_env` are the promoted server's.
    public static let checkActions = ["postgres.check-rows", "postgres.check-freshness", "postgres.check-checksum", "postgres.check-sql"]

    public init() {}

    public var key: String { Self.key }
    public var clouds: [SiteCloud] { [] }

    public func decode(_ node: Node, context: PlanContext, decoder: inout PlanSectionDecoder) -> (any PlanSection)? {
        guard let top = decoder.entries(node, keys: ["databases"], required: ["databases"], what: "postgres") else { return nil }
        var section = PostgresPlanSection()
        var names: Set<String> = []
        for item in decoder.items(top["databases"]?.value, what: "postgres.databases") {
            guard let entry = decoder.entries(item, keys: ["name", "primary", "standbys", "fence", "checks"], required: ["name", "primary", "standbys"],
                                              what: "a PostgreSQL database") else { continue }
            let name = entry["name"].flatMap { decoder.text($0.value, what: "database name") } ?? ""
            if !names.insert(name).inserted { decoder.report(entry["name"]?.value, "found the database name '\(name)' twice, expected unique names") }
            guard let primary = entry["primary"].flatMap({ server($0.value, what: "primary of \(name)", decoder: &decoder) }) else { continue }
            var standbys: [PostgresPlanSection.Server] = []
            for node in decoder.items(entry["standbys"]?.value, what: "standbys of \(name)") {
                guard let standby = server(node, what: "a standby of \(name)", decoder: &decoder) else { continue }
                if standby.site == primary.site {
                    decoder.report(node, "found a standby in the primary's site \(standby.site), expected a standby in another site (a move goes between sites)")
                } else if standbys.contains(where: { $0.site == standby.site }) {
                    decoder.report(node, "found a second standby in \(standby.site), expected one per site (a move promotes one)")
                } else {
                    standbys.append(standby)
                }
            }
            if standbys.isEmpty, let node = entry["standbys"]?.value { decoder.report(node, "found no standby, expected at least one for \(name)") }
            let fence = entry["fence"].flatMap { decoder.text($0.value, what: "fence") } ?? "read-only"
            if !Self.fenceMethods.contains(fence) {
                decoder.report(entry["fence"]?.value, "found fence '\(fence)', expected read-only or terminate")
            }
            var checks: [PostgresPlanSection.Check] = []
            for node in decoder.items(entry["checks"]?.value, what: "checks of \(name)") {
                guard let fields = decoder.entries(node, keys: ["name", "action", "with"], required: ["name", "action"], what: "a check"),
                      let checkName = fields["name"].flatMap({ decoder.text($0.value, what: "check name") }),
                      let action = fields["action"].flatMap({ decoder.text($0.value, what: "check action") }) else { continue }
                guard Self.checkActions.contains(action) else {
                    decoder.report(fields["action"]?.value, "found the action '\(action)', expected one of \(Self.checkActions.joined(separator: ", "))"
                                   + NameSuggestions.hint(for: action, among: Self.checkActions))
                    continue
                }
                var arguments: [String: RunValue] = [:]
                if let with = fields["with"], let pairs = decoder.entries(with.value, keys: nil, required: [], what: "with") {
                    for (key, value) in pairs {
                        if key == "url" || key == "url_env" {
                            decoder.report(value.key, "found \(key), expected none: a check runs on the promoted server")
                        } else if let parsed = decoder.runValue(value.value) {
                            arguments[key] = parsed
                        }
                    }
                }
                checks.append(.init(name: checkName, action: action, with: arguments))
            }
            section.databases.append(.init(name: name, primary: primary, standbys: standbys, fence: fence, checks: checks,
                                           location: decoder.location(of: item)))
        }
        return section
    }

    private func server(_ node: Node, what: String, decoder: inout PlanSectionDecoder) -> PostgresPlanSection.Server? {
        guard let fields = decoder.entries(node, keys: ["site", "url_env"], required: ["site", "url_env"], what: what),
              let site = fields["site"].flatMap({ decoder.site($0.value, what: "site of \(what)") }),
              let variable = fields["url_env"].flatMap({ decoder.text($0.value, what: "url_env of \(what)") }) else { return nil }
        guard Self.isVariableName(variable) else {
            decoder.report(fields["url_env"]?.value, "found '\(variable.prefix(40))', expected the name of an environment variable holding the URL (letters, digits, _)")
            return nil
        }
        return .init(site: site, urlEnv: variable)
    }

    static func isVariableName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || ("A"..."Z").contains(first) || ("a"..."z").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }
}

extension DRPlan {
    /// The plan's `postgres:` section (empty when it has none).
    public var postgres: PostgresPlanSection { section(PostgresPlanSectionKind.key, as: PostgresPlanSection.self) ?? PostgresPlanSection() }
}
