import Yams

/// Steps, action calls and their `with` arguments.
extension RunbookDecoder {
    static let stepKeys = ["id", "description", "action", "with", "needs", "when", "timeout", "retry", "estimate",
                           "on_failure", "compensate"]
    static let retryKeys = ["attempts", "backoff", "max_backoff", "on"]
    static let retryErrorKinds = ["transient", "throttling", "timeout", "any"]
    static let maximumAttempts = 20

    struct DecodedStep {
        var step: RunbookStep
        var idNode: Node?
        var needs: [(id: String, node: Node)]
    }

    mutating func decodeSteps(_ node: Node) -> [DecodedStep] {
        guard visit(node) else { return [] }
        guard case .sequence(let sequence) = node else {
            problem(node, "found \(describe(node)), expected a list of steps")
            return []
        }
        guard !sequence.isEmpty else {
            problem(node, "found an empty list of steps, expected at least one step")
            return []
        }
        guard sequence.count <= limits.maximumSteps else {
            problem(node, "found \(sequence.count) steps, expected at most \(limits.maximumSteps)")
            return []
        }
        var steps: [DecodedStep] = []
        for item in sequence {
            if let step = decodeStep(item, index: steps.count) { steps.append(step) }
            if nodeBudgetExceeded { break }
        }
        return steps
    }

    private mutating func decodeStep(_ node: Node, index: Int) -> DecodedStep? {
        guard let fields = mapping(node, keys: Self.stepKeys, required: ["id", "action"], what: "a step") else { return nil }
        var id = "#\(index + 1)"
        if let idNode = fields["id"]?.value, let text = string(idNode, what: "the step id") {
            if Self.isName(text, allowUnderscore: true) { id = text } else {
                problem(idNode, "found step id '\(text)', expected lower-case letters, digits, '_' and '-'")
            }
        }
        let what = "step '\(id)'"
        var step = RunbookStep(id: id, call: ActionCall(action: ""), location: location(node))
        step.description = fields["description"].flatMap { string($0.value, what: "description") } ?? ""
        if let call = decodeCall(action: fields["action"]?.value, with: fields["with"]?.value, anchor: node,
                                 owner: index, mayReadOwner: false, what: what) {
            step.call = call
        }
        let needs = fields["needs"].map { stringList($0.value, what: "needs") } ?? []
        var seen: Set<String> = []
        step.needs = needs.map(\.0).filter { seen.insert($0).inserted }
        if let whenNode = fields["when"]?.value { step.when = condition(whenNode, owner: index, what: "when of \(what)") }
        step.timeout = fields["timeout"].flatMap { duration($0.value, what: "timeout", allowZero: false) }
        step.estimate = fields["estimate"].flatMap { duration($0.value, what: "estimate") }
        if let retryNode = fields["retry"]?.value, let retry = decodeRetry(retryNode) { step.retry = retry }
        if let policyNode = fields["on_failure"]?.value, let text = string(policyNode, what: "on_failure") {
            if let policy = FailurePolicy(rawValue: text) { step.onFailure = policy } else {
                problem(policyNode, "found on_failure '\(text)', expected abort, continue, ask or rollback")
            }
        }
        if let compensateNode = fields["compensate"]?.value,
           let compensate = mapping(compensateNode, keys: ["action", "with"], required: ["action"], what: "compensate of \(what)") {
            step.compensate = decodeCall(action: compensate["action"]?.value, with: compensate["with"]?.value, anchor: compensateNode,
                                         owner: index, mayReadOwner: true, what: "compensate of \(what)")
        }
        return DecodedStep(step: step, idNode: fields["id"]?.value, needs: needs.map { (id: $0.0, node: $0.1) })
    }

    private mutating func decodeRetry(_ node: Node) -> StepRetryPolicy? {
        guard let fields = mapping(node, keys: Self.retryKeys, required: [], what: "retry") else { return nil }
        var retry = StepRetryPolicy()
        // The first attempt counts: `attempts: 1` is no retry.
        if let attempts = fields["attempts"].flatMap({ int($0.value, what: "retry.attempts", in: 1...Self.maximumAttempts) }) {
            retry.attempts = attempts
        }
        if let backoff = fields["backoff"].flatMap({ duration($0.value, what: "retry.backoff") }) { retry.backoff = backoff }
        if let maxBackoff = fields["max_backoff"].flatMap({ duration($0.value, what: "retry.max_backoff") }) { retry.maxBackoff = maxBackoff }
        if let onNode = fields["on"]?.value {
            for (kind, kindNode) in stringList(onNode, what: "retry.on") {
                if Self.retryErrorKinds.contains(kind) { retry.on.append(kind) } else {
                    problem(kindNode, "found error kind '\(kind)', expected one of \(Self.retryErrorKinds.joined(separator: ", "))")
                }
            }
        }
        return retry
    }

    /// An action name checked against the catalog and its `with` arguments against the action's parameters.
    private mutating func decodeCall(action actionNode: Node?, with withNode: Node?, anchor: Node,
                                     owner: Int, mayReadOwner: Bool, what: String) -> ActionCall? {
        guard let actionNode, let name = string(actionNode, what: "action") else { return nil }
        let spec = catalog.action(named: name)
        if spec == nil {
            let matches = catalog.closeMatches(to: name)
            let expected = matches.isEmpty
                ? "a known action (\(catalog.actions.keys.sorted().prefix(12).joined(separator: ", ")))"
                : "a known action (did you mean \(matches.map { "'\($0)'" }.joined(separator: " or "))?)"
            problem(actionNode, "found unknown action '\(name)', expected \(expected)")
        }
        var call = ActionCall(action: name)
        var given: [String: (key: Node, value: Node)] = [:]
        if let withNode, let entries = mapping(withNode, keys: nil, required: [], what: "with of \(what)") { given = entries }
        for (key, entry) in given.sorted(by: { $0.key < $1.key }) {
            guard let typed = template(entry.value, owner: owner, mayReadOwner: mayReadOwner) else { continue }
            guard let spec else {
                call.with[key] = typed.template
                continue
            }
            guard let parameter = spec.parameters[key] else {
                let names = spec.parameters.keys.sorted()
                problem(entry.key, "found unknown argument '\(key)' for action \(name), expected one of \(names.joined(separator: ", "))\(NameSuggestions.hint(for: key, among: names))")
                continue
            }
            guard let accepted = accept(typed, as: parameter.type) else {
                problem(entry.value, "found \(found(typed, entry.value)), expected \(Self.article(parameter.type)) for with.\(key) of action \(name)")
                continue
            }
            if let check = parameter.check, let constant = Self.constantValue(accepted), !check.accepts(constant) {
                problem(entry.value, "found \(describe(entry.value)), expected \(check.expected) for with.\(key) of action \(name)")
                continue
            }
            call.with[key] = accepted
        }
        for required in spec?.requiredParameters ?? [] where given[required] == nil {
            problem(withNode ?? actionNode, "found no '\(required)' in with, expected the required argument '\(required)' of action \(name)")
        }
        return call
    }

    private func found(_ typed: TypedTemplate, _ node: Node) -> String {
        typed.template.constant != nil || typed.template.structure != nil || !typed.hasExpression
            ? describe(node) : "an expression of type \(typed.type.rawValue)"
    }

    /// The value of a template without expressions (a constant, or plain text), else nil.
    static func constantValue(_ template: Template) -> RunValue? {
        if let constant = template.constant { return constant }
        if template.parts.count == 1, case .text(let text)? = template.parts.first { return .string(text) }
        return nil
    }

    /// The template as the parameter wants it, or nil when its type cannot fit. Constant durations
    /// ("30s") become `.duration` values so the engine never parses text at run time.
    private func accept(_ typed: TypedTemplate, as type: RunValueType) -> Template? {
        if let constant = typed.template.constant {
            if type == .string, constant != .null, constant.type != .list, constant.type != .map {
                return Template(parts: [.text(constant.description)])
            }
            return Self.convert(constant, to: type).map(Template.init(constant:))
        }
        if !typed.hasExpression, case .text(let text)? = typed.template.parts.first, typed.template.parts.count == 1 {
            if type == .string || type == .any { return typed.template }
            return Self.convert(.string(text), to: type).map(Template.init(constant:))
        }
        return Self.fits(typed.type, type) ? typed.template : nil
    }

    /// Whether a value of static type `found` can be given where `expected` is wanted.
    static func fits(_ found: RunValueType, _ expected: RunValueType) -> Bool {
        switch (found, expected) {
        case (.any, _), (_, .any): return true
        case (.int, .number), (.int, .duration), (.number, .duration): return true
        case (_, .string): return found != .list && found != .map
        default: return found == expected
        }
    }

    /// `when`: `${{ expr }}`, a bare expression, or a YAML boolean. Must be boolean where that can be told.
    private mutating func condition(_ node: Node, owner: Int, what: String) -> Expression? {
        guard case .scalar(let scalar) = node else {
            problem(node, "found \(describe(node)), expected an expression such as \"${{ inputs.count > 1 }}\" for \(what)")
            return nil
        }
        if case .bool(let value) = Self.plainValue(scalar) { return .literal(.bool(value)) }
        let text = scalar.string
        let origin = origin(of: node)
        let located: LocatedExpression
        do {
            if TemplateParser.containsExpression(text) {
                let parsed = try TemplateParser.parseLocated(text)
                let onlyExpression = parsed.template.parts.allSatisfy {
                    if case .text(let literal) = $0 { return literal.allSatisfy(\.isWhitespace) }
                    return true
                }
                guard parsed.expressions.count == 1, onlyExpression else {
                    problem(node, "found text around or between ${{ }} in \(what), expected one expression")
                    return nil
                }
                located = parsed.expressions[0]
            } else {
                located = try ExpressionParser.parseLocated(text)
            }
        } catch {
            problem(at: shifted(origin, by: error.column), "found an invalid expression in \(what): \(error.message)")
            return nil
        }
        pending.append(PendingExpression(expression: located, origin: origin, owner: owner, mayReadOwner: false))
        let type = staticType(located.expression)
        if type != .bool && type != .any {
            problem(at: shifted(origin, by: located.column), "found an expression of type \(type.rawValue), expected a boolean for \(what)")
            return nil
        }
        return located.expression
    }
}
