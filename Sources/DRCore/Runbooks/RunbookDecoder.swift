import Yams

/// Turns a composed YAML tree into a `Runbook`, collecting every problem instead of stopping at the
/// first. Steps are decoded in `RunbookDecoder+Steps.swift`; the `needs` graph and what expressions
/// may read are checked in `RunbookDecoder+Graph.swift`.
struct RunbookDecoder: LocatedYAMLDecoding {
    static let topLevelKeys = ["name", "description", "inputs", "budgets", "steps", "outputs"]
    static let inputKeys = ["type", "default", "description"]

    /// An expression found while decoding, checked once all steps are known.
    struct PendingExpression {
        var expression: LocatedExpression
        /// Where column 1 of the template text lies in the file.
        var origin: FileLocation
        /// The step that owns it; nil for run outputs (which may read any step).
        var owner: Int?
        /// Compensations may read the outputs of their own step.
        var mayReadOwner: Bool
    }

    let path: String
    let catalog: ActionCatalog
    let limits: RunbookLoader.Limits
    var nodeLimit: Int { limits.maximumNodes }
    var problems: [RunbookProblem] = []
    var inputTypes: [String: RunValueType] = [:]
    var pending: [PendingExpression] = []
    var visitedNodes = 0
    var stepIndex: [String: Int] = [:]
    /// The `needs` graph once checked; nil when it has a cycle.
    var graph: NeedsGraph?
    var nodeBudgetExceeded = false

    init(path: String, catalog: ActionCatalog, limits: RunbookLoader.Limits = .file) {
        self.path = path
        self.catalog = catalog
        self.limits = limits
    }

    // MARK: Top level

    mutating func decode(_ root: Node, source: RunbookSource) -> Runbook? {
        guard let fields = mapping(root, keys: Self.topLevelKeys, required: ["name", "steps"], what: "the runbook") else { return nil }
        var name = ""
        if let node = fields["name"]?.value, let text = string(node, what: "name") {
            if Self.isName(text, allowUnderscore: false) { name = text } else {
                problem(node, "found name '\(text)', expected lower-case letters, digits and '-' (e.g. failover-demo)")
            }
        }
        let description = fields["description"].flatMap { string($0.value, what: "description") } ?? ""
        // Inputs first, whatever the key order: steps' expressions are typed against them.
        let inputs = fields["inputs"].map { decodeInputs($0.value) } ?? []
        let budgets = fields["budgets"].map { decodeBudgets($0.value) } ?? RunbookBudgets()
        let steps = fields["steps"].map { decodeSteps($0.value) } ?? []
        var outputs: [String: Template] = [:]
        if let node = fields["outputs"]?.value, let entries = mapping(node, keys: nil, required: [], what: "outputs") {
            for (key, entry) in entries.sorted(by: { $0.key < $1.key }) {
                if let template = template(entry.value, owner: nil, mayReadOwner: false)?.template { outputs[key] = template }
            }
        }
        checkGraph(steps)
        checkPendingExpressions(steps)
        guard problems.isEmpty else { return nil }
        return Runbook(name: name, description: description, inputs: inputs, budgets: budgets, steps: steps.map(\.step),
                       outputs: outputs, source: source)
    }

    private mutating func decodeInputs(_ node: Node) -> [RunbookInput] {
        guard let entries = mapping(node, keys: nil, required: [], what: "inputs") else { return [] }
        var inputs: [RunbookInput] = []
        for (name, entry) in entries.sorted(by: { position($0.value.key).lexicographicallyPrecedes(position($1.value.key)) }) {
            if !Self.isIdentifier(name) {
                problem(entry.key, "found input name '\(name)', expected letters, digits, '_' and '-' starting with a letter")
            }
            guard let fields = mapping(entry.value, keys: Self.inputKeys, required: ["type"], what: "input '\(name)'") else { continue }
            var type = RunValueType.any
            if let typeNode = fields["type"]?.value, let text = string(typeNode, what: "type") {
                if let parsed = RunValueType(rawValue: text), parsed != .null {
                    type = parsed
                } else {
                    let names = RunValueType.allCases.filter { $0 != .null }.map(\.rawValue)
                    problem(typeNode, "found type '\(text)', expected one of \(names.joined(separator: ", "))\(NameSuggestions.hint(for: text, among: names))")
                }
            }
            inputTypes[name] = type
            let defaultValue = fields["default"].flatMap { typedValue($0.value, as: type, what: "the default of input '\(name)'") }
            let description = fields["description"].flatMap { string($0.value, what: "description") } ?? ""
            inputs.append(RunbookInput(name: name, type: type, defaultValue: defaultValue, description: description))
        }
        return inputs
    }

    private mutating func decodeBudgets(_ node: Node) -> RunbookBudgets {
        guard let fields = mapping(node, keys: ["rpo", "rto"], required: [], what: "budgets") else { return RunbookBudgets() }
        // A zero budget can never be met and makes every ratio to it infinite.
        return RunbookBudgets(rpo: fields["rpo"].flatMap { duration($0.value, what: "budgets.rpo", allowZero: false) },
                              rto: fields["rto"].flatMap { duration($0.value, what: "budgets.rto", allowZero: false) })
    }

    /// File order of a node; inputs keep the order in which they were written.
    private func position(_ node: Node) -> [Int] { [node.mark?.line ?? 0, node.mark?.column ?? 0] }

    // MARK: Names

    /// Runbook names: `[a-z0-9-]+`; step ids also allow `_`.
    static func isName(_ text: String, allowUnderscore: Bool) -> Bool {
        !text.isEmpty && text.count <= 128 && text.unicodeScalars.allSatisfy {
            ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" || (allowUnderscore && $0 == "_")
        }
    }

    /// Input names are read in expressions (`inputs.name`), so they follow the expression lexer.
    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, (first >= "a" && first <= "z") || (first >= "A" && first <= "Z") || first == "_" else { return false }
        return text.count <= 128 && text.unicodeScalars.allSatisfy {
            ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "_" || $0 == "-"
        }
    }
}
