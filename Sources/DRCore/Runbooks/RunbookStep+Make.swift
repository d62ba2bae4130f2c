/// Building runbooks in code (the generated failover, switchover and drill runbooks) without going
/// through text. Values made this way are what `RunbookLoader` would make of the same YAML, so a
/// generated runbook, rendered for `--print-runbook` and loaded again, compares equal.
extension Template {
    /// A literal argument as the loader represents it: a string as text, anything else a constant
    /// (see `Template.init(constant:)`).
    /// (Whether an action later reads "5" as text or 5 as an int is the catalogue's business; give
    /// the type the action's parameter declares.)
    public static func literal(_ value: RunValue) -> Template { Template(constant: value) }

    /// Exactly one expression: keeps the expression's type (`${{ steps.promote.outputs.endpoint }}`).
    public static func expression(_ expression: Expression) -> Template {
        Template(parts: [.expression(expression)])
    }

    /// A reference such as `Template.reference("steps", "promote", "outputs", "endpoint")`.
    public static func reference(_ path: String...) -> Template {
        expression(.reference(path))
    }
}

extension ActionCall {
    /// Literal arguments become constant templates (`Template.literal`); `templates` holds the
    /// arguments computed at run time, and wins where both name the same argument.
    public static func make(_ action: String, with literals: [String: RunValue] = [:],
                            templates: [String: Template] = [:]) -> ActionCall {
        ActionCall(action: action, with: literals.mapValues(Template.literal).merging(templates) { _, computed in computed })
    }
}

extension RunbookStep {
    /// A step from literal arguments (and computed ones in `templates`); every other field as the
    /// loader defaults it.
    public static func make(id: String, action: String, with literals: [String: RunValue] = [:],
                            templates: [String: Template] = [:], needs: [String] = [], when: Expression? = nil,
                            timeout: Double? = nil, retry: StepRetryPolicy = StepRetryPolicy(), estimate: Double? = nil,
                            onFailure: FailurePolicy = .abort, compensate: ActionCall? = nil,
                            description: String = "") -> RunbookStep {
        RunbookStep(id: id, call: .make(action, with: literals, templates: templates), needs: needs, when: when,
                    timeout: timeout, retry: retry, estimate: estimate, onFailure: onFailure, compensate: compensate,
                    description: description)
    }
}
