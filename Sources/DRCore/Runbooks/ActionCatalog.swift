import Foundation

/// The actions a runbook may call and the `with` arguments each takes. The loader checks every step
/// and compensation against it; the engine registers its built-ins and each provider its operations.
public struct ActionCatalog: Sendable {
    public struct Parameter: Sendable, Equatable {
        public var name: String
        /// `.any` accepts every value; `.number` also accepts ints; `.duration` accepts "90s"-style
        /// text and plain seconds.
        public var type: RunValueType
        public var required: Bool
        /// What the argument means, for `drctl actions` (optional).
        public var help: String?
        /// What a constant value must also satisfy; checked when the runbook loads, with the
        /// value's file:line:column (values computed by expressions are checked by the action).
        public var check: ArgumentCheck?

        public init(_ name: String, _ type: RunValueType, required: Bool = false, help: String? = nil, check: ArgumentCheck? = nil) {
            self.name = name
            self.type = type
            self.required = required
            self.help = help
            self.check = check
        }
    }

    /// A rule on an argument's value beyond its type: one of a set of words, a least integer, or a
    /// regular expression the whole text must match.
    public struct ArgumentCheck: Sendable, Equatable {
        public enum Rule: Sendable, Equatable {
            case oneOf([String])
            case atLeast(Int)
            case pattern(String)
        }

        public let rule: Rule
        /// What a valid value is, in words, for the error: "a Google resource name".
        public let expected: String

        public init(_ rule: Rule, expected: String) {
            self.rule = rule
            self.expected = expected
        }

        public static func oneOf(_ words: [String]) -> ArgumentCheck {
            ArgumentCheck(.oneOf(words), expected: "one of " + words.joined(separator: ", "))
        }

        public static func atLeast(_ minimum: Int) -> ArgumentCheck {
            ArgumentCheck(.atLeast(minimum), expected: "an integer >= \(minimum)")
        }

        public func accepts(_ value: RunValue) -> Bool {
            switch (rule, value) {
            case (.oneOf(let words), .string(let text)): return words.contains(text)
            case (.atLeast(let minimum), .int(let number)): return number >= minimum
            case (.pattern(let pattern), .string(let text)):
                return text.range(of: pattern, options: .regularExpression) == text.startIndex..<text.endIndex
            default: return true
            }
        }
    }

    public struct Action: Sendable, Equatable {
        public var name: String
        public var parameters: [String: Parameter]

        public init(_ name: String, parameters: [Parameter] = []) {
            self.name = name
            self.parameters = Dictionary(parameters.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        }

        public var requiredParameters: [String] { parameters.values.filter(\.required).map(\.name).sorted() }
    }

    public private(set) var actions: [String: Action]

    public init(_ actions: [Action] = []) {
        self.actions = Dictionary(actions.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    public mutating func register(_ action: Action) {
        actions[action.name] = action
    }

    public func registering(_ more: [Action]) -> ActionCatalog {
        var copy = self
        for action in more { copy.register(action) }
        return copy
    }

    public func action(named name: String) -> Action? { actions[name] }

    /// Known names closest to `name` (edit distance, then shared dotted prefix), best first.
    public func closeMatches(to name: String, limit: Int = 3) -> [String] {
        NameSuggestions.closest(to: name, among: actions.keys, limit: limit)
    }

    /// The engine's built-in actions.
    /// The engine's built-in actions (wait, check, approve, notify, exec), from their own declarations.
    public static var builtIns: ActionCatalog { ActionRegistry.builtIns.catalog }
}

/// "Did you mean …" for keys, actions, inputs and steps.
public enum NameSuggestions {
    static func closest<Names: Sequence>(to name: String, among names: Names, limit: Int = 3) -> [String] where Names.Element == String {
        let target = Array(name.lowercased().unicodeScalars)
        let threshold = max(2, target.count / 3)
        var scored: [(String, Int)] = []
        for candidate in names {
            let distance = editDistance(target, Array(candidate.lowercased().unicodeScalars))
            if distance <= threshold || candidate.hasPrefix(name) || name.hasPrefix(candidate) && candidate.count >= 3 {
                scored.append((candidate, distance))
            }
        }
        return scored.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.prefix(limit).map(\.0)
    }

    /// " (did you mean x?)" or "".
    public static func hint<Names: Sequence>(for name: String, among names: Names) -> String where Names.Element == String {
        let matches = closest(to: name, among: names)
        guard !matches.isEmpty else { return "" }
        return " (did you mean \(matches.map { "'\($0)'" }.joined(separator: " or "))?)"
    }

    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        // Names are short; a runaway long name is not worth a quadratic table.
        if a.count > 64 || b.count > 64 { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
