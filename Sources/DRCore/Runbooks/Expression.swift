/// The runbook expression language: small and safe — literals, references into inputs, earlier
/// steps and the run, comparison and boolean operators, and a few pure functions. No loops, no
/// I/O, no access to the environment. Parsed by `ExpressionParser`, evaluated here.
public indirect enum Expression: Sendable, Equatable, CustomStringConvertible {
    case literal(RunValue)
    /// A dotted path: `inputs.to`, `steps.promote.outputs.endpoint`, `steps.fence.status`, `run.id`.
    case reference([String])
    case not(Expression)
    case binary(BinaryOperator, Expression, Expression)
    /// `contains(list_or_string, x)`, `startsWith(s, p)`, `endsWith(s, p)`, `length(x)`,
    /// `duration('5m')`, `format('{0}-{1}', a, b)`, `lower(s)`, `upper(s)`.
    case call(String, [Expression])

    public enum BinaryOperator: String, Sendable, Equatable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case and = "&&", or = "||"
    }

    public static let functions: Set<String> = ["contains", "startsWith", "endsWith", "length", "duration", "format", "lower", "upper"]

    public var description: String {
        switch self {
        case .literal(.string(let s)): return Self.quoted(s)
        case .literal(let value): return value.description
        case .reference(let path): return path.joined(separator: ".")
        case .not(let inner): return "!\(inner)"
        case .binary(let op, let lhs, let rhs): return "(\(lhs) \(op.rawValue) \(rhs))"
        case .call(let name, let args): return "\(name)(\(args.map(\.description).joined(separator: ", ")))"
        }
    }

    /// A string literal as the lexer reads it back (its escapes: \\ \' \n \t \r).
    static func quoted(_ text: String) -> String {
        // By Unicode scalar, as the lexer reads: a quote followed by a combining mark is one
        // Character, and would otherwise go out unescaped (a fuzz finding).
        var out = "'"
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "'"
    }

    /// `format` results longer than this are refused: nested `format('{0}{0}', …)` doubles at each
    /// level, and 64 levels would otherwise ask for 2^64 characters.
    static let formatLimit = 64 * 1024

    /// Every reference the expression reads (validation checks them against inputs and `needs`).
    public var references: [[String]] {
        switch self {
        case .literal: return []
        case .reference(let path): return [path]
        case .not(let inner): return inner.references
        case .binary(_, let lhs, let rhs): return lhs.references + rhs.references
        case .call(_, let args): return args.flatMap(\.references)
        }
    }

    public func evaluate(_ context: EvaluationContext) throws -> RunValue {
        switch self {
        case .literal(let value):
            return value
        case .reference(let path):
            return try context.resolve(path)
        case .not(let inner):
            guard case .bool(let value) = try inner.evaluate(context) else {
                throw ExpressionError("'!' needs a boolean in \(self)")
            }
            return .bool(!value)
        case .binary(.and, let lhs, let rhs):
            guard case .bool(let left) = try lhs.evaluate(context) else { throw ExpressionError("'&&' needs booleans in \(self)") }
            if !left { return .bool(false) }
            guard case .bool(let right) = try rhs.evaluate(context) else { throw ExpressionError("'&&' needs booleans in \(self)") }
            return .bool(right)
        case .binary(.or, let lhs, let rhs):
            guard case .bool(let left) = try lhs.evaluate(context) else { throw ExpressionError("'||' needs booleans in \(self)") }
            if left { return .bool(true) }
            guard case .bool(let right) = try rhs.evaluate(context) else { throw ExpressionError("'||' needs booleans in \(self)") }
            return .bool(right)
        case .binary(let op, let lhs, let rhs):
            return try Self.compare(op, try lhs.evaluate(context), try rhs.evaluate(context), in: self)
        case .call(let name, let args):
            return try Self.call(name, try args.map { try $0.evaluate(context) }, in: self)
        }
    }

    private static func compare(_ op: BinaryOperator, _ lhs: RunValue, _ rhs: RunValue, in expression: Expression) throws -> RunValue {
        switch op {
        case .equal: return .bool(Self.equal(lhs, rhs))
        case .notEqual: return .bool(!Self.equal(lhs, rhs))
        default:
            let ordering: Int
            if let l = lhs.secondsValue, let r = rhs.secondsValue {
                ordering = l < r ? -1 : (l > r ? 1 : 0)
            } else if case .string(let l) = lhs, case .string(let r) = rhs {
                ordering = l < r ? -1 : (l > r ? 1 : 0)
            } else {
                throw ExpressionError("cannot order \(lhs.type.rawValue) and \(rhs.type.rawValue) in \(expression)")
            }
            switch op {
            case .less: return .bool(ordering < 0)
            case .lessOrEqual: return .bool(ordering <= 0)
            case .greater: return .bool(ordering > 0)
            default: return .bool(ordering >= 0)
            }
        }
    }

    /// Numbers compare by value whatever their representation (2 == 2.0, 60s == 60).
    private static func equal(_ lhs: RunValue, _ rhs: RunValue) -> Bool {
        if let l = lhs.secondsValue, let r = rhs.secondsValue { return l == r }
        return lhs == rhs
    }

    private static func call(_ name: String, _ args: [RunValue], in expression: Expression) throws -> RunValue {
        func arity(_ n: Int) throws {
            guard args.count == n else { throw ExpressionError("\(name) takes \(n) argument\(n == 1 ? "" : "s"), got \(args.count) in \(expression)") }
        }
        func string(_ value: RunValue) throws -> String {
            guard case .string(let s) = value else { throw ExpressionError("\(name) needs a string, got \(value.type.rawValue) in \(expression)") }
            return s
        }
        switch name {
        case "contains":
            try arity(2)
            switch args[0] {
            case .list(let items): return .bool(items.contains { equal($0, args[1]) })
            case .string(let text): return .bool(text.contains(try string(args[1])))
            case .map(let map): return .bool(map[try string(args[1])] != nil)
            default: throw ExpressionError("contains needs a list, map or string in \(expression)")
            }
        case "startsWith": try arity(2); return .bool(try string(args[0]).hasPrefix(try string(args[1])))
        case "endsWith": try arity(2); return .bool(try string(args[0]).hasSuffix(try string(args[1])))
        case "lower": try arity(1); return .string(try string(args[0]).lowercased())
        case "upper": try arity(1); return .string(try string(args[0]).uppercased())
        case "length":
            try arity(1)
            switch args[0] {
            case .list(let items): return .int(items.count)
            case .map(let map): return .int(map.count)
            case .string(let text): return .int(text.count)
            default: throw ExpressionError("length needs a list, map or string in \(expression)")
            }
        case "duration":
            try arity(1)
            let seconds: Double?
            if let number = args[0].secondsValue { seconds = DurationText.seconds(fromNumber: number) } else { seconds = DurationText.parse(try string(args[0])) }
            guard let seconds else {
                throw ExpressionError("duration: '\(args[0])' is not a duration like 90s, 5m, 4h (\(DurationText.rangeText)) in \(expression)")
            }
            return .duration(seconds)
        case "format":
            guard let first = args.first else { throw ExpressionError("format needs a pattern in \(expression)") }
            var text = try string(first)
            for (index, value) in args.dropFirst().enumerated() {
                text = text.replacingOccurrences(of: "{\(index)}", with: value.description)
                guard text.utf8.count <= Self.formatLimit else {
                    throw ExpressionError("format's result is longer than \(Self.formatLimit) bytes in \(expression)")
                }
            }
            return .string(text)
        default:
            throw ExpressionError("unknown function \(name) in \(expression)")
        }
    }
}

public struct ExpressionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What expressions can read while a run executes.
public struct EvaluationContext: Sendable {
    public struct StepState: Sendable {
        public var status: String
        public var outputs: [String: RunValue]
        public init(status: String, outputs: [String: RunValue] = [:]) {
            self.status = status
            self.outputs = outputs
        }
    }

    public var inputs: [String: RunValue]
    public var steps: [String: StepState]
    /// `run.id`, `run.name`, `run.mode` (e.g. "drill"), `run.operator`.
    public var run: [String: RunValue]

    public init(inputs: [String: RunValue] = [:], steps: [String: StepState] = [:], run: [String: RunValue] = [:]) {
        self.inputs = inputs
        self.steps = steps
        self.run = run
    }

    func resolve(_ path: [String]) throws -> RunValue {
        guard let root = path.first else { throw ExpressionError("empty reference") }
        let joined = path.joined(separator: ".")
        switch root {
        case "inputs":
            guard path.count >= 2, let value = inputs[path[1]] else { throw ExpressionError("\(joined): no such input") }
            return try Self.descend(value, path.dropFirst(2), joined)
        case "run":
            guard path.count == 2, let value = run[path[1]] else { throw ExpressionError("\(joined): no such run field") }
            return value
        case "steps":
            guard path.count >= 3, let step = steps[path[1]] else {
                throw ExpressionError("\(joined): step \(path.count >= 2 ? path[1] : "?") has not run")
            }
            switch path[2] {
            case "status": return .string(step.status)
            case "outputs":
                guard path.count >= 4 else { return .map(step.outputs) }
                guard let value = step.outputs[path[3]] else { throw ExpressionError("\(joined): step \(path[1]) has no output \(path[3])") }
                return try Self.descend(value, path.dropFirst(4), joined)
            default: throw ExpressionError("\(joined): a step has 'status' and 'outputs'")
            }
        default:
            throw ExpressionError("\(joined): references start with inputs, steps or run")
        }
    }

    private static func descend(_ value: RunValue, _ rest: ArraySlice<String>, _ joined: String) throws -> RunValue {
        var current = value
        for key in rest {
            switch current {
            case .map(let map):
                guard let next = map[key] else { throw ExpressionError("\(joined): no key \(key)") }
                current = next
            case .list(let items):
                guard let index = Int(key), items.indices.contains(index) else { throw ExpressionError("\(joined): no index \(key)") }
                current = items[index]
            default:
                throw ExpressionError("\(joined): \(current.type.rawValue) has no field \(key)")
            }
        }
        return current
    }
}

/// A `with` argument or output: text with `${{ expression }}` parts. A template that is exactly one
/// expression keeps the expression's type (`${{ inputs.count }}` stays an int); otherwise the parts
/// are joined into a string.
public struct Template: Sendable, Equatable {
    public enum Part: Sendable, Equatable {
        case text(String)
        case expression(Expression)
    }

    /// A list or mapping given in YAML with expressions inside (`inputs: { to: "${{ inputs.to }}" }`);
    /// evaluates to a `.list` or `.map` of its evaluated elements.
    public indirect enum Structure: Sendable, Equatable {
        case list([Template])
        case map([String: Template])
    }

    public var parts: [Part]
    /// A value given directly in YAML (number, boolean, list, map) rather than as text.
    public var constant: RunValue?
    public var structure: Structure?

    public init(parts: [Part]) {
        self.parts = parts
        self.constant = nil
        self.structure = nil
    }

    /// A string is kept as text, as the loader keeps it (YAML strings are templates there): one
    /// representation per value, so a runbook built in code compares equal to its rendered text
    /// loaded back.
    public init(constant: RunValue) {
        self.structure = nil
        if case .string(let text) = constant {
            self.parts = [.text(text)]
            self.constant = nil
        } else {
            self.parts = []
            self.constant = constant
        }
    }

    public init(structure: Structure) {
        self.parts = []
        self.constant = nil
        self.structure = structure
    }

    /// The value when no expression is involved (a constant, plain text, or a structure of those).
    public var constantValue: RunValue? {
        if let constant { return constant }
        switch structure {
        case .list(let items)?:
            var values: [RunValue] = []
            for item in items {
                guard let value = item.constantValue else { return nil }
                values.append(value)
            }
            return .list(values)
        case .map(let entries)?:
            var values: [String: RunValue] = [:]
            for (key, item) in entries {
                guard let value = item.constantValue else { return nil }
                values[key] = value
            }
            return .map(values)
        case nil:
            if parts.count == 1, case .text(let text) = parts[0] { return .string(text) }
            return parts.isEmpty ? .string("") : nil
        }
    }

    public var references: [[String]] {
        switch structure {
        case .list(let items)?: return items.flatMap(\.references)
        case .map(let entries)?: return entries.keys.sorted().flatMap { entries[$0]!.references }
        case nil: break
        }
        return parts.flatMap { part -> [[String]] in
            if case .expression(let expression) = part { return expression.references }
            return []
        }
    }

    public func evaluate(_ context: EvaluationContext) throws -> RunValue {
        if let constant { return constant }
        switch structure {
        case .list(let items)?: return .list(try items.map { try $0.evaluate(context) })
        case .map(let entries)?: return .map(try entries.mapValues { try $0.evaluate(context) })
        case nil: break
        }
        if parts.count == 1, case .expression(let expression) = parts[0] { return try expression.evaluate(context) }
        var text = ""
        for part in parts {
            switch part {
            case .text(let literal): text += literal
            case .expression(let expression): text += try expression.evaluate(context).description
            }
        }
        return .string(text)
    }
}
