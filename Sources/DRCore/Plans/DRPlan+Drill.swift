import Foundation
import Yams

extension DRPlan {
    /// The `drills:` section beyond `schedule`: what a drill restores, how it validates the copy,
    /// and the cost guard (largest instance class, longest runtime).
    public struct Drill: Sendable, Equatable {
        /// The drill copy's instance class.
        public var instanceClass: String = "db.t3.medium"
        /// Cost guard: a drill whose `instanceClass` is larger (same family) is refused.
        public var maxInstanceClass: String?
        /// Cost guard: the steps' timeouts add up to at most this; estimates above it are refused.
        public var maxRuntime: Double = 2 * 3600
        /// The environment variable holding the URL at which drctl reaches the restored copy's database.
        public var validationURLEnv: String?
        /// Or the copy's URL as a template, `{host}` and `{port}` filled in from the copy the drill
        /// made (its name carries the run id, unknown before the run). It holds no password: libpq
        /// takes it from PGPASSWORD or PGPASSFILE, so none reaches the runbook or the journal.
        public var validationURLTemplate: String?
        /// The environment variable holding the primary's URL (heartbeat RPO).
        public var primaryURLEnv: String?
        public var checks: [Check] = []

        public init() {}

        public struct Check: Sendable, Equatable {
            public var name: String
            public var action: String
            public var with: [String: RunValue]
        }

        static let keys = ["instance_class", "max_instance_class", "max_runtime", "validation", "primary_url_env", "checks"]

        /// Actions a check may name: the data checks, and `postgres.replication-lag` (a streaming copy
        /// is alive and how far behind it is).
        public static let checkActions = ["postgres.check-rows", "postgres.check-freshness", "postgres.check-checksum", "postgres.check-sql",
                                          "postgres.replication-lag"]
    }
}

/// Instance classes ordered within a family: `db.t3.medium` is family `db.t3`, size `medium`.
public enum InstanceClassSize {
    static let named = ["nano", "micro", "small", "medium", "large", "xlarge"]

    /// (family, rank) or nil when the class does not look like `db.<family>.<size>`.
    public static func parse(_ instanceClass: String) -> (family: String, rank: Int)? {
        let parts = instanceClass.split(separator: ".")
        guard parts.count >= 3, let size = parts.last else { return nil }
        let family = parts.dropLast().joined(separator: ".")
        if let index = named.firstIndex(of: String(size)) { return (family, index * 1000) }
        if size == "metal" { return (family, 1_000_000) }
        if size.hasSuffix("xlarge"), let factor = Int(size.dropLast("xlarge".count)) { return (family, 5000 + factor) }
        return nil
    }

    /// Why `instanceClass` is over `maximum`, or nil when it is within.
    public static func exceeds(_ instanceClass: String, maximum: String) -> String? {
        guard let wanted = parse(instanceClass) else { return "cannot size instance class \(instanceClass)" }
        guard let limit = parse(maximum) else { return "cannot size max_instance_class \(maximum)" }
        guard wanted.family == limit.family else {
            return "instance class \(instanceClass) is of another family than max_instance_class \(maximum): cannot compare their cost"
        }
        return wanted.rank > limit.rank ? "instance class \(instanceClass) is larger than max_instance_class \(maximum)" : nil
    }
}

extension DRPlanDecoder {
    mutating func decodeDrill(_ entries: [String: (key: Node, value: Node)]) -> DRPlan.Drill {
        var drill = DRPlan.Drill()
        if let text = entries["instance_class"].flatMap({ string($0.value, what: "drills.instance_class") }) {
            if InstanceClassSize.parse(text) == nil { problem(entries["instance_class"]?.value, "found '\(text)', expected an instance class such as db.t3.medium") }
            drill.instanceClass = text
        }
        if let text = entries["max_instance_class"].flatMap({ string($0.value, what: "drills.max_instance_class") }) {
            if InstanceClassSize.parse(text) == nil { problem(entries["max_instance_class"]?.value, "found '\(text)', expected an instance class such as db.t3.large") }
            drill.maxInstanceClass = text
        }
        if let seconds = entries["max_runtime"].flatMap({ duration($0.value, what: "drills.max_runtime", allowZero: false) }) {
            drill.maxRuntime = seconds
        }
        if let node = entries["validation"]?.value, let fields = mapping(node, keys: ["url_env", "url_template"], required: [], what: "drills.validation") {
            drill.validationURLEnv = fields["url_env"].flatMap { string($0.value, what: "drills.validation.url_env") }
            if let entry = fields["url_template"], let text = string(entry.value, what: "drills.validation.url_template") {
                if let why = DRPlan.Drill.urlTemplateProblem(text) { problem(entry.value, why) } else { drill.validationURLTemplate = text }
            }
            switch (fields["url_env"], fields["url_template"]) {
            case (.some, .some):
                problem(node, "found both url_env and url_template in drills.validation, expected one: the variable holding the copy's URL, or the URL's template")
            case (nil, nil):
                problem(node, "found neither url_env nor url_template in drills.validation, expected one: the variable holding the copy's URL, or the URL's template")
            default: break
            }
        }
        drill.primaryURLEnv = entries["primary_url_env"].flatMap { string($0.value, what: "drills.primary_url_env") }
        if let node = entries["checks"]?.value {
            guard case .sequence(let items) = node else {
                problem(node, "found \(describe(node)), expected a list of checks for drills.checks")
                return drill
            }
            var names: Set<String> = []
            for item in items {
                guard let fields = mapping(item, keys: ["name", "action", "with"], required: ["name", "action"], what: "a drill check") else { continue }
                let name = fields["name"].flatMap { string($0.value, what: "check name") } ?? ""
                if !name.isEmpty && !RunbookDecoder.isName(name, allowUnderscore: false) {
                    problem(fields["name"]?.value, "found the check name '\(name)', expected lower-case letters, digits and '-'")
                }
                if !names.insert(name).inserted { problem(fields["name"]?.value, "found the check name '\(name)' twice, expected unique names") }
                let action = fields["action"].flatMap { string($0.value, what: "check action") } ?? ""
                if !DRPlan.Drill.checkActions.contains(action) {
                    problem(fields["action"]?.value, "found the check action '\(action)', expected one of \(DRPlan.Drill.checkActions.joined(separator: ", "))")
                }
                var with: [String: RunValue] = [:]
                if let withNode = fields["with"]?.value, let arguments = mapping(withNode, keys: nil, required: [], what: "with of check \(name)") {
                    with = checkArguments(arguments, in: withNode, action: action, check: name)
                }
                drill.checks.append(.init(name: name, action: action, with: with))
            }
        }
        if !drill.checks.isEmpty && drill.validationURLEnv == nil && drill.validationURLTemplate == nil && entries["validation"] == nil {
            problem(entries["checks"]?.value, "found drill checks without drills.validation, expected url_env (the variable holding the restored copy's URL) or url_template")
        }
        return drill
    }

    /// A check's `with`, against its action's own parameters (names with "did you mean", types,
    /// duration ranges), so that the plan — not the runbook generated from it — names the problem.
    private mutating func checkArguments(_ arguments: [String: (key: Node, value: Node)], in withNode: Node, action: String,
                                         check: String) -> [String: RunValue] {
        let parameters = DRPlan.Drill.checkParameters[action].map { Dictionary(uniqueKeysWithValues: $0.map { ($0.name, $0) }) }
        var with: [String: RunValue] = [:]
        for (key, entry) in arguments.sorted(by: { $0.key < $1.key }) {
            guard let parameters else {
                if let value = value(entry.value) { with[key] = value }
                continue
            }
            guard let parameter = parameters[key] else {
                let names = parameters.keys.sorted()
                problem(entry.key, "found unknown argument '\(key)' for action \(action), expected one of \(names.joined(separator: ", "))"
                        + NameSuggestions.hint(for: key, among: names))
                continue
            }
            let what = "with.\(key) of check \(check)"
            // Text parameters take any scalar as text, as in a runbook's `with`.
            let typed = parameter.type == .string || parameter.type == .any ? value(entry.value) : typedValue(entry.value, as: parameter.type, what: what)
            if let typed { with[key] = typed }
        }
        for parameter in (parameters?.values.filter(\.required) ?? []).sorted(by: { $0.name < $1.name }) where arguments[parameter.name] == nil {
            problem(withNode, "found no '\(parameter.name)' in with, expected the required argument '\(parameter.name)' of action \(action)")
        }
        return with
    }
}

extension DRPlan.Drill {
    /// Why `template` cannot be the copy's URL template, or nil: it must name `{host}`, may name
    /// `{port}`, nothing else in braces, and never a password (the template is kept in the runbook).
    public static func urlTemplateProblem(_ template: String) -> String? {
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { return "found an unclosed '{' in drills.validation.url_template, expected {host} or {port}" }
            let name = rest[rest.index(after: open)..<close]
            if name != "host" && name != "port" { return "found {\(name)} in drills.validation.url_template, expected only {host} and {port}" }
            rest = rest[rest.index(after: close)...]
        }
        guard template.contains("{host}") else { return "found no {host} in drills.validation.url_template, expected the copy's host to be filled in there" }
        let lower = template.lowercased()
        let userInfo = lower.range(of: "://").map { lower[$0.upperBound...].prefix { $0 != "@" && $0 != "/" } }
        let hasURLPassword = userInfo.map { info in lower.contains("@") && info.contains(":") && !info.contains("{") } ?? false
        if hasURLPassword || lower.contains("password=") {
            return "found a password in drills.validation.url_template, expected none: it would be kept in the runbook and the journal; put it in PGPASSFILE or PGPASSWORD"
        }
        return nil
    }

    /// The parameters of each check action, from the actions' own declarations.
    static let checkParameters: [String: [ActionCatalog.Parameter]] = Dictionary(uniqueKeysWithValues: [
        (PostgresCheckRowsAction().name, PostgresCheckRowsAction().parameters),
        (PostgresCheckFreshnessAction().name, PostgresCheckFreshnessAction().parameters),
        (PostgresCheckChecksumAction().name, PostgresCheckChecksumAction().parameters),
        (PostgresCheckSQLAction().name, PostgresCheckSQLAction().parameters),
        (PostgresReplicationLagAction().name, PostgresReplicationLagAction().parameters),
    ])
}
