/// Splits `"text ${{ expr }} more"` into `Template.Part`s. `}}` inside a quoted string of the
/// expression does not end it. Columns in errors and references count from the template's start.
public enum TemplateParser {
    public static let opening = "${{"

    public struct Parsed: Sendable, Equatable {
        public var template: Template
        public var expressions: [LocatedExpression]
    }

    public static func parse(_ text: String) throws(ExpressionSyntaxError) -> Template {
        try parseLocated(text).template
    }

    public static func containsExpression(_ text: String) -> Bool { text.contains(opening) }

    public static func parseLocated(_ text: String) throws(ExpressionSyntaxError) -> Parsed {
        let scalars = Array(text.unicodeScalars)
        var parts: [Template.Part] = []
        var expressions: [LocatedExpression] = []
        var literal = String.UnicodeScalarView()
        var index = 0
        func matches(_ pattern: String, at position: Int) -> Bool {
            let pattern = Array(pattern.unicodeScalars)
            guard position + pattern.count <= scalars.count else { return false }
            return Array(scalars[position..<position + pattern.count]) == pattern
        }
        while index < scalars.count {
            guard matches(opening, at: index) else {
                literal.append(scalars[index])
                index += 1
                continue
            }
            let openColumn = index + 1
            let start = index + 3
            var end = start
            var quote: (scalar: Unicode.Scalar, column: Int)?
            while end < scalars.count {
                let c = scalars[end]
                if let q = quote {
                    if c == "\\" { end += 1 } else if c == q.scalar { quote = nil }
                } else if c == "'" || c == "\"" {
                    quote = (c, end + 1)
                } else if matches("}}", at: end) {
                    break
                }
                end += 1
            }
            if let quote {
                throw ExpressionSyntaxError(column: quote.column,
                                            message: "found a string without its closing \(quote.scalar), expected \(quote.scalar) before '}}'")
            }
            guard end < scalars.count else {
                throw ExpressionSyntaxError(column: openColumn, message: "found '${{' without its closing '}}', expected '}}' after the expression")
            }
            let source = String(String.UnicodeScalarView(scalars[start..<end]))
            guard !source.allSatisfy(\.isWhitespace) else {
                throw ExpressionSyntaxError(column: openColumn, message: "found an empty '${{ }}', expected an expression inside it")
            }
            let located = try ExpressionParser.parseLocated(source, columnOffset: start)
            if !literal.isEmpty {
                parts.append(.text(String(literal)))
                literal = String.UnicodeScalarView()
            }
            parts.append(.expression(located.expression))
            expressions.append(located)
            index = end + 2
        }
        if !literal.isEmpty || parts.isEmpty { parts.append(.text(String(literal))) }
        return Parsed(template: Template(parts: parts), expressions: expressions)
    }
}
