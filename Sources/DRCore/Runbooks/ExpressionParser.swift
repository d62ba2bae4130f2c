/// A syntax error in an expression: the 1-based column (in Unicode scalars, as libyaml counts) within
/// the expression text, and what was found against what was expected.
public struct ExpressionSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var column: Int
    public var message: String

    public init(column: Int, message: String) {
        self.column = column
        self.message = message
    }

    public var description: String { "column \(column): \(message)" }
}

/// An expression together with where each reference starts, so validation can point at
/// `inputs.tos` inside a longer template.
public struct LocatedExpression: Sendable, Equatable {
    public struct Reference: Sendable, Equatable {
        public var path: [String]
        /// 1-based column within the parsed text.
        public var column: Int
    }

    public var expression: Expression
    public var references: [Reference]
    /// 1-based column of the expression's first character within the parsed text.
    public var column: Int
}

/// Parses the runbook expression language into `Expression` by precedence climbing:
///
///     or         := and ( "||" and )*
///     and        := comparison ( "&&" comparison )*
///     comparison := unary ( ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) unary )?
///     unary      := "!" unary | primary
///     primary    := literal | "(" or ")" | name "(" arguments ")" | reference
///     reference  := "inputs" "." key ( "." key )* | "steps" "." id "." ( "status" | "outputs" ( "." key )* )
///                 | "run" "." field
///
/// Comparisons do not chain (`a == b == c` is an error rather than a surprise). Length and nesting are
/// bounded so that hostile input ends in an error, never in a stack overflow.
public struct ExpressionParser: Sendable {
    public static let maximumLength = 4096
    public static let maximumDepth = 64
    /// Fields of `run.*` (see `EvaluationContext.run`).
    public static let runFields: Set<String> = ["id", "name", "mode", "operator"]
    /// Arity of each function of `Expression.functions`; nil upper bound means variadic.
    static let arities: [String: (min: Int, max: Int?)] = [
        "contains": (2, 2), "startsWith": (2, 2), "endsWith": (2, 2), "length": (1, 1),
        "duration": (1, 1), "format": (1, nil), "lower": (1, 1), "upper": (1, 1),
    ]

    public static func parse(_ text: String) throws(ExpressionSyntaxError) -> Expression {
        try parseLocated(text).expression
    }

    /// Parses `text`; `columnOffset` is added to every reported column (for an expression inside a template).
    public static func parseLocated(_ text: String, columnOffset: Int = 0) throws(ExpressionSyntaxError) -> LocatedExpression {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count <= maximumLength else {
            throw ExpressionSyntaxError(column: columnOffset + maximumLength + 1,
                                        message: "found an expression of \(scalars.count) characters, expected at most \(maximumLength)")
        }
        let tokens: [ExpressionToken]
        do throws(ExpressionSyntaxError) {
            var lexer = ExpressionLexer(scalars: scalars)
            tokens = try lexer.tokenize()
        } catch {
            throw ExpressionSyntaxError(column: error.column + columnOffset, message: error.message)
        }
        var parser = ExpressionParser(tokens: tokens)
        do throws(ExpressionSyntaxError) {
            let expression = try parser.parseOr()
            guard parser.current.kind == .end else {
                throw parser.unexpected("an operator (== != < <= > >= && ||) or the end of the expression")
            }
            let start = tokens.first?.column ?? 1
            return LocatedExpression(expression: expression,
                                     references: parser.references.map { .init(path: $0.path, column: $0.column + columnOffset) },
                                     column: start + columnOffset)
        } catch {
            throw ExpressionSyntaxError(column: error.column + columnOffset, message: error.message)
        }
    }

    private let tokens: [ExpressionToken]
    private var index = 0
    private var depth = 0
    private var references: [LocatedExpression.Reference] = []

    private init(tokens: [ExpressionToken]) {
        self.tokens = tokens
    }

    private var current: ExpressionToken { tokens[index] }

    private mutating func advance() -> ExpressionToken {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    private func unexpected(_ expected: String) -> ExpressionSyntaxError {
        ExpressionSyntaxError(column: current.column, message: "found \(current.kind.display), expected \(expected)")
    }

    private mutating func enter() throws(ExpressionSyntaxError) {
        depth += 1
        if depth > Self.maximumDepth {
            throw ExpressionSyntaxError(column: current.column,
                                        message: "found an expression nested more than \(Self.maximumDepth) levels deep, expected a simpler expression")
        }
    }

    private mutating func parseOr() throws(ExpressionSyntaxError) -> Expression {
        try enter()
        defer { depth -= 1 }
        var lhs = try parseAnd()
        while current.kind == .symbol("||") {
            _ = advance()
            lhs = .binary(.or, lhs, try parseAnd())
        }
        return lhs
    }

    private mutating func parseAnd() throws(ExpressionSyntaxError) -> Expression {
        var lhs = try parseComparison()
        while current.kind == .symbol("&&") {
            _ = advance()
            lhs = .binary(.and, lhs, try parseComparison())
        }
        return lhs
    }

    private mutating func parseComparison() throws(ExpressionSyntaxError) -> Expression {
        let lhs = try parseUnary()
        guard case .symbol(let symbol) = current.kind, let op = Expression.BinaryOperator(rawValue: symbol),
              op != .and, op != .or else { return lhs }
        _ = advance()
        let rhs = try parseUnary()
        if case .symbol(let next) = current.kind, let nextOp = Expression.BinaryOperator(rawValue: next), nextOp != .and, nextOp != .or {
            throw ExpressionSyntaxError(column: current.column,
                                        message: "found a second comparison '\(next)', expected && or || (comparisons do not chain; use parentheses)")
        }
        return .binary(op, lhs, rhs)
    }

    private mutating func parseUnary() throws(ExpressionSyntaxError) -> Expression {
        guard current.kind == .symbol("!") else { return try parsePrimary() }
        _ = advance()
        try enter()
        defer { depth -= 1 }
        return .not(try parseUnary())
    }

    private mutating func parsePrimary() throws(ExpressionSyntaxError) -> Expression {
        let token = current
        switch token.kind {
        case .string(let value):
            _ = advance()
            return .literal(.string(value))
        case .int(let value):
            _ = advance()
            return .literal(.int(value))
        case .double(let value):
            _ = advance()
            return .literal(.double(value))
        case .symbol("("):
            _ = advance()
            let inner = try parseOr()
            guard current.kind == .symbol(")") else { throw unexpected("')' to close the '(' at column \(token.column)") }
            _ = advance()
            return inner
        case .identifier(let name):
            _ = advance()
            switch name {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "null": return .literal(.null)
            default: break
            }
            if current.kind == .symbol("(") { return try parseCall(name, at: token.column) }
            return try parseReference(root: name, at: token.column)
        default:
            throw unexpected("a value (a 'string', a number, true, false, null, a reference such as inputs.name, or a function call)")
        }
    }

    private mutating func parseCall(_ name: String, at column: Int) throws(ExpressionSyntaxError) -> Expression {
        guard let arity = Self.arities[name], Expression.functions.contains(name) else {
            throw ExpressionSyntaxError(column: column,
                                        message: "found unknown function '\(name)', expected one of \(Expression.functions.sorted().joined(separator: ", "))")
        }
        _ = advance()  // "("
        try enter()
        defer { depth -= 1 }
        var arguments: [Expression] = []
        if current.kind != .symbol(")") {
            while true {
                arguments.append(try parseOr())
                guard current.kind == .symbol(",") else { break }
                _ = advance()
            }
        }
        guard current.kind == .symbol(")") else { throw unexpected("',' or ')' in the arguments of \(name)") }
        let closing = advance()
        if arguments.count < arity.min || arity.max.map({ arguments.count > $0 }) == true {
            let expected = arity.max == nil ? "at least \(arity.min)" : (arity.min == arity.max! ? "\(arity.min)" : "\(arity.min)…\(arity.max!)")
            throw ExpressionSyntaxError(column: closing.column,
                                        message: "found \(arguments.count) argument\(arguments.count == 1 ? "" : "s") to \(name), expected \(expected)")
        }
        return .call(name, arguments)
    }

    private mutating func parseReference(root: String, at column: Int) throws(ExpressionSyntaxError) -> Expression {
        guard ["inputs", "steps", "run"].contains(root) else {
            throw ExpressionSyntaxError(column: column,
                                        message: "found '\(root)', expected a reference starting with inputs., steps. or run., a literal or a function call")
        }
        var path = [root]
        while current.kind == .symbol(".") {
            _ = advance()
            switch current.kind {
            case .identifier(let key): path.append(key)
            case .int(let index) where path.count >= 3: path.append(String(index))
            default: throw unexpected("a name after '.'")
            }
            _ = advance()
        }
        let segmentColumn = tokens[max(0, index - 1)].column
        switch root {
        case "inputs" where path.count < 2:
            throw ExpressionSyntaxError(column: current.column, message: "found \(current.kind.display), expected '.' and an input name after 'inputs'")
        case "run" where path.count != 2 || !Self.runFields.contains(path[1]):
            throw ExpressionSyntaxError(column: path.count < 2 ? current.column : column,
                                        message: "found '\(path.joined(separator: "."))', expected one of \(Self.runFields.sorted().map { "run.\($0)" }.joined(separator: ", "))")
        case "steps":
            guard path.count >= 3 else {
                throw ExpressionSyntaxError(column: current.column,
                                            message: "found \(current.kind.display), expected steps.<id>.status or steps.<id>.outputs.<name>")
            }
            if path[2] == "status" && path.count > 3 || path[2] != "status" && path[2] != "outputs" {
                throw ExpressionSyntaxError(column: segmentColumn,
                                            message: "found '\(path.joined(separator: "."))', expected steps.\(path[1]).status or steps.\(path[1]).outputs.<name>")
            }
        default:
            break
        }
        references.append(.init(path: path, column: column))
        return .reference(path)
    }
}
