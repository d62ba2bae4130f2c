import DRCore

/// The expression language, as `when:` and `${{ }}` templates use it: parse, print, parse again,
/// and evaluate against a small run (inputs of every type, a finished step, the run's fields).
/// Errors point inside the text; an accepted expression prints (`sourceText`) as text that parses
/// to the same expression; evaluation ends with a value or an `ExpressionError`, never a trap, and `!`,
/// `&&`, `||` and comparisons give booleans.
enum ExpressionFuzzTarget {
    static let target = FuzzTarget(name: "expression") { bytes in
        let source = text(bytes)
        let length = source.unicodeScalars.count
        do throws(ExpressionSyntaxError) {
            let located = try ExpressionParser.parseLocated(source)
            let expression = located.expression
            for reference in located.references {
                require(reference.column >= 1 && reference.column <= length, "reference at column \(reference.column) of \(length)")
            }
            // `sourceText` is what `RunbookRenderer` writes. (`description`, for messages, brackets
            // every operation: a flat chain of 70 `&&` would print past the parser's nesting limit.)
            let printed = expression.sourceText
            do {
                let reparsed = try ExpressionParser.parse(printed)
                require(reparsed == expression, "'\(source)' prints as '\(printed)', which parses to \(reparsed)")
            } catch {
                require(false, "'\(source)' prints as '\(printed)', which does not parse: \(error)")
            }
            evaluate(expression)
        } catch {
            require(error.column >= 1 && error.column <= length + 1, "error at column \(error.column) of \(length): \(error)")
        }

        do throws(ExpressionSyntaxError) {
            let parsed = try TemplateParser.parseLocated(source)
            for expression in parsed.expressions {
                require(expression.column >= 1 && expression.column <= length, "template expression at column \(expression.column) of \(length)")
            }
            _ = try? parsed.template.evaluate(context)
        } catch {
            require(error.column >= 1 && error.column <= length + 1, "template error at column \(error.column) of \(length): \(error)")
        }
    }

    static let context = EvaluationContext(
        inputs: ["to": .string("us-west-2"), "count": .int(3), "ratio": .double(0.5), "lag": .duration(90),
                 "dry_run": .bool(false), "regions": .list([.string("us-east-1"), .int(2)]),
                 "tags": .map(["team": .string("dr"), "n": .null])],
        steps: ["promote": .init(status: "succeeded", outputs: ["endpoint": .string("db:5432"), "lag": .duration(12)]),
                "fence": .init(status: "failed")],
        run: ["id": .string("run-1"), "name": .string("failover"), "mode": .string("drill"), "operator": .string("fuzz")])

    static func evaluate(_ expression: Expression) {
        guard let value = try? expression.evaluate(context) else { return }
        switch expression {
        case .not, .binary:
            require(value.boolValue != nil, "\(expression) evaluated to \(value), expected a boolean")
        default:
            break
        }
    }
}
