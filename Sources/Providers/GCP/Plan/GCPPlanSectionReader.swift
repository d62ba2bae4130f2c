import DRCore
import Yams

/// Reads the `gcp:` section, every problem located (file:line:col, found and expected) and the
/// decoding carried on past it. Every resource's site must be a `gcp:` site the plan declares —
/// except an external primary, which lives in another provider's cloud by definition.
struct GCPPlanSectionReader {
    let context: PlanContext
    var decoder: PlanSectionDecoder
    static let fenceMethods = ["stop", "none"]
    static let ttlSeconds = 1...86_400

    mutating func read(_ node: Node) -> GCPPlanSection? {
        guard let top = decoder.entries(node, keys: ["project", "quota_project", "impersonate_service_account", "databases", "dns", "standby", "transfers", "buckets"],
                                        required: ["project"], what: "gcp") else { return nil }
        var section = GCPPlanSection()
        if let entry = top["project"], let project = decoder.text(entry.value, what: "gcp.project") {
            if Self.isProjectId(project) { section.project = project } else {
                decoder.report(entry.value, "found '\(project.prefix(40))', expected a Google Cloud project id (6 to 30 lower-case letters, digits and hyphens, starting with a letter)")
            }
        }
        if let entry = top["quota_project"], let project = decoder.text(entry.value, what: "gcp.quota_project") {
            if Self.isProjectId(project) { section.quotaProject = project } else {
                decoder.report(entry.value, "found '\(project.prefix(40))', expected a Google Cloud project id for quota_project")
            }
        }
        if let entry = top["impersonate_service_account"], let account = decoder.text(entry.value, what: "gcp.impersonate_service_account") {
            if account.contains("@"), !account.contains(where: \.isWhitespace) { section.impersonateServiceAccount = account } else {
                decoder.report(entry.value, "found '\(account.prefix(60))', expected a service account email (NAME@PROJECT.iam.gserviceaccount.com)")
            }
        }
        var names: Set<String> = []
        for item in decoder.items(top["databases"]?.value, what: "gcp.databases") {
            guard let database = database(item) else { continue }
            if !names.insert(database.name).inserted { decoder.report(item, "found the database name '\(database.name)' twice, expected unique names") }
            section.databases.append(database)
        }
        for item in decoder.items(top["dns"]?.value, what: "gcp.dns") {
            if let record = record(item) { section.records.append(record) }
        }
        if let node = top["standby"]?.value, let bySite = decoder.entries(node, keys: nil, required: [], what: "gcp.standby") {
            for (text, entry) in bySite.sorted(by: { $0.key < $1.key }) {
                guard let site = gcpSite(entry.key, text: text, what: "a gcp.standby site"),
                      let fields = decoder.entries(entry.value, keys: ["node_pools"], required: ["node_pools"], what: "standby for \(text)") else { continue }
                let pools = decoder.items(fields["node_pools"]?.value, what: "node_pools of \(text)").compactMap { nodePool($0) }
                if !pools.isEmpty { section.standby[site] = pools }
            }
        }
        for item in decoder.items(top["transfers"]?.value, what: "gcp.transfers") {
            guard let fields = decoder.entries(item, keys: ["job", "site"], required: ["job", "site"], what: "a transfer job"),
                  let job = fields["job"].flatMap({ decoder.text($0.value, what: "transfer job") }),
                  let site = fields["site"].flatMap({ gcpSite($0.value, what: "site of transfer \(job)") }) else { continue }
            guard job.hasPrefix("transferJobs/"), job.count > "transferJobs/".count else {
                decoder.report(fields["job"]?.value, "found '\(job.prefix(60))', expected a transfer job's name such as transferJobs/123456789")
                continue
            }
            section.transfers.append(.init(job: job, site: site))
        }
        for item in decoder.items(top["buckets"]?.value, what: "gcp.buckets") {
            guard let fields = decoder.entries(item, keys: ["bucket", "site", "require_turbo"], required: ["bucket", "site"], what: "a bucket"),
                  let bucket = fields["bucket"].flatMap({ decoder.text($0.value, what: "bucket") }),
                  let site = fields["site"].flatMap({ gcpSite($0.value, what: "site of bucket \(bucket)") }) else { continue }
            let turbo = fields["require_turbo"].flatMap { decoder.flag($0.value, what: "require_turbo") } ?? false
            section.buckets.append(.init(bucket: bucket, site: site, requireTurbo: turbo))
        }
        return section
    }

    private mutating func database(_ item: Node) -> GCPPlanSection.Database? {
        guard let entry = decoder.entries(item, keys: ["name", "primary", "replicas", "fence"], required: ["name", "primary", "replicas"],
                                          what: "a Cloud SQL database"),
              let name = entry["name"].flatMap({ decoder.text($0.value, what: "database name") }),
              let primaryNode = entry["primary"]?.value, let primary = primary(primaryNode, database: name) else { return nil }
        var replicas: [GCPPlanSection.Instance] = []
        for node in decoder.items(entry["replicas"]?.value, what: "replicas of \(name)") {
            guard let replica = instance(node, what: "a replica of \(name)") else { continue }
            if replica.site == primary.site {
                decoder.report(node, "found a replica in the primary's site \(replica.site), expected a replica in another site (a move goes between sites)")
            } else if replicas.contains(where: { $0.site == replica.site }) {
                decoder.report(node, "found a second replica in \(replica.site), expected one per site (a move promotes one)")
            } else {
                replicas.append(replica)
            }
        }
        if replicas.isEmpty, let node = entry["replicas"]?.value { decoder.report(node, "found no replica, expected at least one for \(name)") }
        let fence = entry["fence"].flatMap { decoder.text($0.value, what: "fence") } ?? "stop"
        if !Self.fenceMethods.contains(fence) {
            decoder.report(entry["fence"]?.value, "found fence '\(fence)', expected stop or none" + NameSuggestions.hint(for: fence, among: Self.fenceMethods))
        }
        return .init(name: name, primary: primary, replicas: replicas, fence: fence)
    }

    /// `{ site: gcp:REGION, instance: NAME }`, or `{ site: SITE, external: true, follows: SECTION:DATABASE }`.
    private mutating func primary(_ node: Node, database: String) -> GCPPlanSection.Primary? {
        guard let fields = decoder.entries(node, keys: ["site", "instance", "external", "follows"], required: ["site"], what: "primary of \(database)") else { return nil }
        let external = fields["external"].flatMap { decoder.flag($0.value, what: "external") } ?? false
        guard external else {
            if let follows = fields["follows"] { decoder.report(follows.key, "found follows without external: true, expected follows only for an external primary") }
            guard fields["instance"] != nil else {
                decoder.report(node, "found no instance, expected instance: NAME (a Cloud SQL primary) or external: true with follows: SECTION:DATABASE")
                return nil
            }
            return instance(node, what: "primary of \(database)").map { .cloudSQL($0) }
        }
        if let instance = fields["instance"] {
            decoder.report(instance.key, "found instance in an external primary, expected follows: SECTION:DATABASE naming it in its own provider's section")
        }
        guard let site = fields["site"].flatMap({ decoder.site($0.value, what: "site of the external primary of \(database)") }) else { return nil }
        if site.cloud == GCPProvider.name {
            decoder.report(fields["site"]?.value, "found the external primary in \(site), expected a site outside Google Cloud (a Cloud SQL primary is written with instance:)")
            return nil
        }
        guard let followsEntry = fields["follows"] else {
            decoder.report(node, "found an external primary without follows, expected follows: SECTION:DATABASE (e.g. aws:\(database))")
            return nil
        }
        guard let text = decoder.text(followsEntry.value, what: "follows") else { return nil }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, GCPPlanSectionKind.followable.contains(parts[0]), !parts[1].isEmpty else {
            decoder.report(followsEntry.value, "found '\(text.prefix(60))', expected SECTION:DATABASE with SECTION one of \(GCPPlanSectionKind.followable.joined(separator: ", ")) (e.g. aws:\(database))")
            return nil
        }
        if !declared(site) { reportUndeclared(fields["site"]?.value, site); return nil }
        return .external(site: site, follows: .init(section: parts[0], database: parts[1]))
    }

    private mutating func instance(_ node: Node, what: String) -> GCPPlanSection.Instance? {
        guard let fields = decoder.entries(node, keys: ["site", "instance", "external", "follows"], required: ["site", "instance"], what: what),
              let site = fields["site"].flatMap({ gcpSite($0.value, what: "site of \(what)") }),
              let name = fields["instance"].flatMap({ decoder.text($0.value, what: "instance of \(what)") }) else { return nil }
        for key in ["external", "follows"] { if let entry = fields[key] { decoder.report(entry.key, "found \(key) in \(what), expected only site and instance") } }
        guard Self.isInstanceName(name) else {
            decoder.report(fields["instance"]?.value, "found '\(name.prefix(60))', expected a Cloud SQL instance name (lower-case letters, digits, hyphens, starting with a letter, at most 98)")
            return nil
        }
        return .init(site: site, instance: name)
    }

    private mutating func record(_ item: Node) -> GCPPlanSection.DNSRecord? {
        guard let entry = decoder.entries(item, keys: ["zone", "name", "type", "ttl", "values"], required: ["zone", "name", "type", "values"], what: "a Cloud DNS record"),
              let zone = entry["zone"].flatMap({ decoder.text($0.value, what: "zone") }),
              let name = entry["name"].flatMap({ decoder.text($0.value, what: "record name") }),
              let type = entry["type"].flatMap({ decoder.text($0.value, what: "record type") }) else { return nil }
        let ttl = entry["ttl"].flatMap { decoder.integer($0.value, what: "ttl", in: Self.ttlSeconds) } ?? 60
        var values: [Site: [String]] = [:]
        if let bySite = entry["values"].flatMap({ decoder.entries($0.value, keys: nil, required: [], what: "values of \(name)") }) {
            for (text, pair) in bySite.sorted(by: { $0.key < $1.key }) {
                // Any cloud's site: the record sends traffic wherever the plan is active.
                guard let site = decoder.site(pair.key, what: "a site in values of \(name)") else { continue }
                guard declared(site) else { reportUndeclared(pair.key, site); continue }
                values[site] = decoder.texts(pair.value, what: "values for \(text)").map(\.0)
            }
        }
        return .init(zone: zone, name: name, type: type, ttl: ttl, values: values)
    }

    private mutating func nodePool(_ node: Node) -> GCPPlanSection.NodePool? {
        guard let fields = decoder.entries(node, keys: ["location", "cluster", "pool", "node_count", "min", "max"],
                                           required: ["location", "cluster", "pool", "node_count"], what: "a node pool"),
              let location = fields["location"].flatMap({ decoder.text($0.value, what: "location") }),
              let cluster = fields["cluster"].flatMap({ decoder.text($0.value, what: "cluster") }),
              let pool = fields["pool"].flatMap({ decoder.text($0.value, what: "pool") }),
              let count = fields["node_count"].flatMap({ decoder.integer($0.value, what: "node_count", in: 0...1_000) }) else { return nil }
        let min = fields["min"].flatMap { decoder.integer($0.value, what: "min", in: 0...1_000) }
        let max = fields["max"].flatMap { decoder.integer($0.value, what: "max", in: 1...1_000) }
        if (min == nil) != (max == nil), let one = fields["min"] ?? fields["max"] {
            decoder.report(one.key, "found only one of min and max, expected both (GKE's autoscaling takes a minimum and a maximum) or neither")
            return nil
        }
        if let min, let max, !(min <= count && count <= max) {
            decoder.report(fields["node_count"]?.value, "found node_count \(count), expected it within min \(min) and max \(max)")
            return nil
        }
        return .init(location: location, cluster: cluster, pool: pool, nodeCount: count, min: min, max: max)
    }

    /// A `gcp:` site the plan declares: a resource of this section in an AWS site is refused here.
    private mutating func gcpSite(_ node: Node, text: String? = nil, what: String) -> Site? {
        guard let site = decoder.site(node, what: what, cloud: GCPProvider.name) else { return nil }
        guard declared(site) else { reportUndeclared(node, site); return nil }
        return site
    }

    private func declared(_ site: Site) -> Bool { context.declaredSites.isEmpty || context.declaredSites.contains(site) }

    private mutating func reportUndeclared(_ node: Node?, _ site: Site) {
        decoder.report(node, "found the site \(site), expected one of the plan's sites \(context.declaredSites.map(\.description).joined(separator: ", "))")
    }

    /// Google's rule: 6 to 30 characters, lower-case letters, digits and hyphens, starting with a
    /// letter and not ending with a hyphen.
    static func isProjectId(_ text: String) -> Bool {
        guard (6...30).contains(text.count), let first = text.first, ("a"..."z").contains(first), text.last != "-" else { return false }
        return text.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    static func isInstanceName(_ text: String) -> Bool {
        guard (1...98).contains(text.count), let first = text.first, ("a"..."z").contains(first), text.last != "-" else { return false }
        return text.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}
