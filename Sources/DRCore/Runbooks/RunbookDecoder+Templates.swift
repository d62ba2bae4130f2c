import Yams

/// `with` arguments and outputs: YAML values whose strings may hold `${{ expr }}`, typed statically.
extension RunbookDecoder {
    struct TypedTemplate {
        var template: Template
        /// What evaluation yields, as far as validation can tell.
        var type: RunValueType
        var hasExpression: Bool
    }

    mutating func template(_ node: Node, owner: Int?, mayReadOwner: Bool) -> TypedTemplate? {
        guard visit(node) else { return nil }
        switch node {
        case .scalar(let scalar):
            let value = Self.plainValue(scalar)
            guard case .string(let text) = value else {
                return TypedTemplate(template: Template(constant: value), type: value.type, hasExpression: false)
            }
            guard TemplateParser.containsExpression(text) else {
                return TypedTemplate(template: Template(parts: [.text(text)]), type: .string, hasExpression: false)
            }
            let origin = origin(of: node)
            do {
                let parsed = try TemplateParser.parseLocated(text)
                for expression in parsed.expressions {
                    pending.append(PendingExpression(expression: expression, origin: origin, owner: owner, mayReadOwner: mayReadOwner))
                }
                let type: RunValueType = parsed.template.parts.count == 1 ? staticType(parsed.expressions[0].expression) : .string
                return TypedTemplate(template: parsed.template, type: type, hasExpression: true)
            } catch {
                problem(at: shifted(origin, by: error.column), "found an invalid expression: \(error.message)")
                return nil
            }
        case .sequence(let sequence):
            var items: [Template] = []
            for item in sequence {
                guard let typed = template(item, owner: owner, mayReadOwner: mayReadOwner) else { return nil }
                items.append(typed.template)
            }
            return structured(.list(items), type: .list)
        case .mapping(let mapping):
            var entries: [String: Template] = [:]
            for (key, item) in mapping {
                guard case .scalar(let scalar) = key else {
                    problem(key, "found \(describe(key)) as a key, expected a name")
                    return nil
                }
                guard let typed = template(item, owner: owner, mayReadOwner: mayReadOwner) else { return nil }
                entries[scalar.string] = typed.template
            }
            return structured(.map(entries), type: .map)
        case .alias:
            problem(node, "found an alias, expected a value")
            return nil
        }
    }

    /// A list or mapping stays a constant unless an expression hides somewhere inside it.
    private func structured(_ structure: Template.Structure, type: RunValueType) -> TypedTemplate {
        if let constant = Template(structure: structure).constantValue {
            return TypedTemplate(template: Template(constant: constant), type: type, hasExpression: false)
        }
        return TypedTemplate(template: Template(structure: structure), type: type, hasExpression: true)
    }

    /// Where column 1 of a scalar's text lies: after the opening quote of a one-line quoted scalar.
    /// For block and multi-line scalars the scalar's own position is the best honest answer.
    func origin(of node: Node) -> FileLocation {
        var origin = location(node)
        guard case .scalar(let scalar) = node, !scalar.string.contains("\n") else { return origin }
        switch scalar.style {
        case .singleQuoted, .doubleQuoted: origin.column += 1
        case .literal, .folded: origin.line += 1
        default: break
        }
        return origin
    }

    func shifted(_ origin: FileLocation, by column: Int) -> FileLocation {
        var location = origin
        location.column += max(0, column - 1)
        return location
    }

    /// The type an expression evaluates to, where validation can tell; `.any` where it cannot.
    func staticType(_ expression: Expression) -> RunValueType {
        switch expression {
        case .literal(let value): return value.type
        case .reference(let path):
            switch path.first {
            case "inputs": return path.count == 2 ? inputTypes[path[1]] ?? .any : .any
            case "run": return .string
            case "steps": return path.count == 3 && path[2] == "status" ? .string : .any
            default: return .any
            }
        case .not, .binary: return .bool
        case .call(let name, _):
            switch name {
            case "contains", "startsWith", "endsWith": return .bool
            case "length": return .int
            case "duration": return .duration
            case "format", "lower", "upper": return .string
            default: return .any
            }
        }
    }
}
