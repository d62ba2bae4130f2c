import Yams

/// A decoder of a YAML file (runbooks, DR plans) that records every failure as a located
/// "found X, expected Y" instead of stopping at the first one.
protocol LocatedYAMLDecoding {
    var path: String { get }
    var problems: [RunbookProblem] { get set }
    var visitedNodes: Int { get set }
    var nodeBudgetExceeded: Bool { get set }
    /// YAML values this decoder walks at most; `maximumNodes` unless the decoder says otherwise.
    var nodeLimit: Int { get }
}

extension LocatedYAMLDecoding {
    /// Bounds the work on a tree that anchors and aliases blow up (a "billion laughs" file is small
    /// on disk and exponential once expanded).
    static var maximumNodes: Int { 500_000 }
    var nodeLimit: Int { Self.maximumNodes }
}

/// Reading YAML nodes into values, each failure recorded as a located "found X, expected Y".
extension LocatedYAMLDecoding {
    func location(_ node: Node?) -> FileLocation {
        guard let mark = node?.mark else { return FileLocation(file: path, line: 1, column: 1) }
        return FileLocation(file: path, line: mark.line, column: mark.column)
    }

    mutating func problem(_ node: Node?, _ message: String) {
        problems.append(RunbookProblem(location: location(node), message: message))
    }

    mutating func problem(at location: FileLocation, _ message: String) {
        problems.append(RunbookProblem(location: location, message: message))
    }

    /// True while the tree is small enough to keep walking (see `maximumNodes`).
    mutating func visit(_ node: Node) -> Bool {
        visitedNodes += 1
        guard visitedNodes <= nodeLimit else {
            if !nodeBudgetExceeded {
                nodeBudgetExceeded = true
                problem(node, "found more than \(nodeLimit) YAML values (anchors and aliases expand to this), expected a smaller file")
            }
            return false
        }
        return true
    }

    /// "a mapping", "the string 'x'", "the number 3" — the *found* half of a message.
    func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            // Numbers as written: "1e400" and "99999999999999999999" are numbers to the reader,
            // whatever a Double makes of them.
            if Self.isPlain(scalar), Self.isNumberLiteral(scalar.string) { return "the number \(scalar.string)" }
            switch Self.plainValue(scalar) {
            case .null: return "null (an empty value)"
            case .bool(let value): return "the boolean \(value)"
            default:
                let text = scalar.string
                return "the string '\(text.count > 60 ? String(text.prefix(57)) + "..." : text)'"
            }
        }
    }

    /// A plain scalar's YAML 1.2 core-schema value; quoted and block scalars are always strings.
    /// (YAML 1.1's `yes`/`no`/`on`/`off` booleans are deliberately not recognised.)
    /// Numbers are the core schema's decimal ints and floats only: no `.inf`, `.nan`, hex or octal,
    /// and a float beyond Double's range stays text (every field that wants a number refuses it).
    static func plainValue(_ scalar: Node.Scalar) -> RunValue {
        let text = scalar.string
        guard isPlain(scalar) else { return .string(text) }
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: break
        }
        guard isNumberLiteral(text) else { return .string(text) }
        if let value = Int(text) { return .int(value) }
        if let value = Double(text), value.isFinite { return .double(value) }
        return .string(text)
    }

    static func isPlain(_ scalar: Node.Scalar) -> Bool { scalar.style == .plain || scalar.style == .any }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` (YAML 1.2 core schema, decimal).
    static func isNumberLiteral(_ text: String) -> Bool {
        var scalars = Substring(text).unicodeScalars[...]
        func digits() -> Int {
            let count = scalars.prefix { $0 >= "0" && $0 <= "9" }.count
            scalars = scalars.dropFirst(count)
            return count
        }
        if scalars.first == "-" || scalars.first == "+" { scalars = scalars.dropFirst() }
        var mantissa = digits()
        if scalars.first == "." {
            scalars = scalars.dropFirst()
            mantissa += digits()
        }
        guard mantissa > 0 else { return false }
        if scalars.first == "e" || scalars.first == "E" {
            scalars = scalars.dropFirst()
            if scalars.first == "-" || scalars.first == "+" { scalars = scalars.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return scalars.isEmpty
    }

    /// The mapping's entries by key. `keys` nil allows any key (inputs, outputs, `with`).
    mutating func mapping(_ node: Node, keys: [String]?, required: [String], what: String) -> [String: (key: Node, value: Node)]? {
        guard visit(node) else { return nil }
        guard case .mapping(let mapping) = node else {
            problem(node, "found \(describe(node)), expected a mapping for \(what)")
            return nil
        }
        var entries: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                problem(key, "found \(describe(key)) as a key in \(what), expected a name")
                continue
            }
            let name = scalar.string
            if let keys, !keys.contains(name) {
                problem(key, "found unknown key '\(name)' in \(what), expected one of \(keys.joined(separator: ", "))\(NameSuggestions.hint(for: name, among: keys))")
                continue
            }
            entries[name] = (key, value)
        }
        for name in required where entries[name] == nil {
            problem(node, "found no '\(name)' in \(what), expected the required key '\(name)'")
        }
        return entries
    }

    mutating func string(_ node: Node, what: String) -> String? {
        guard case .scalar(let scalar) = node, Self.plainValue(scalar) != .null else {
            problem(node, "found \(describe(node)), expected a string for \(what)")
            return nil
        }
        return scalar.string
    }

    /// A duration within `DurationText`'s range; `allowZero: false` where no time at all means
    /// nothing (a timeout, a budget).
    mutating func duration(_ node: Node, what: String, allowZero: Bool = true) -> Double? {
        if case .scalar(let scalar) = node, let seconds = Self.seconds(Self.plainValue(scalar)), allowZero || seconds > 0 {
            return seconds
        }
        let range = allowZero ? DurationText.rangeText : "more than 0s, at most 366d"
        problem(node, "found \(describe(node)), expected a duration like 90s, 5m, 1h30m or 250ms (\(range)) for \(what)")
        return nil
    }

    /// A YAML number (seconds) or duration text, in range.
    static func seconds(_ value: RunValue) -> Double? {
        switch value {
        case .int(let seconds): return DurationText.seconds(fromNumber: Double(seconds))
        case .double(let seconds): return DurationText.seconds(fromNumber: seconds)
        case .string(let text): return DurationText.parse(text)
        default: return nil
        }
    }

    mutating func bool(_ node: Node, what: String) -> Bool? {
        if case .scalar(let scalar) = node, case .bool(let value) = Self.plainValue(scalar) { return value }
        problem(node, "found \(describe(node)), expected true or false for \(what)")
        return nil
    }

    /// A whole number within `range`: every integer field states its own.
    mutating func int(_ node: Node, what: String, in range: ClosedRange<Int>) -> Int? {
        if case .scalar(let scalar) = node, case .int(let value) = Self.plainValue(scalar), range.contains(value) { return value }
        problem(node, "found \(describe(node)), expected a whole number from \(range.lowerBound) to \(range.upperBound) for \(what)")
        return nil
    }

    /// A list of strings, or one string standing for a list of one (`needs: fence`).
    mutating func stringList(_ node: Node, what: String) -> [(String, Node)] {
        if case .sequence(let sequence) = node {
            return sequence.compactMap { item in string(item, what: "an item of \(what)").map { ($0, item) } }
        }
        if case .scalar = node, let text = string(node, what: what) { return [(text, node)] }
        if case .scalar = node { return [] }
        problem(node, "found \(describe(node)), expected a list of names or one name for \(what)")
        return []
    }

    /// Any YAML value as a `RunValue`.
    mutating func value(_ node: Node) -> RunValue? {
        guard visit(node) else { return nil }
        switch node {
        case .scalar(let scalar):
            return Self.plainValue(scalar)
        case .sequence(let sequence):
            var items: [RunValue] = []
            for item in sequence {
                guard let value = value(item) else { return nil }
                items.append(value)
            }
            return .list(items)
        case .mapping(let mapping):
            var map: [String: RunValue] = [:]
            for (key, item) in mapping {
                guard case .scalar(let scalar) = key else {
                    problem(key, "found \(describe(key)) as a key, expected a name")
                    return nil
                }
                guard let value = value(item) else { return nil }
                map[scalar.string] = value
            }
            return .map(map)
        case .alias:
            problem(node, "found an alias, expected a value")
            return nil
        }
    }

    /// A value that must have `type` (input defaults). Ints widen to numbers; "90s" becomes a duration.
    mutating func typedValue(_ node: Node, as type: RunValueType, what: String) -> RunValue? {
        guard let value = value(node) else { return nil }
        if let converted = Self.convert(value, to: type) { return converted }
        let hint = type == .string && value.type != .list && value.type != .map ? " (quote it)" : ""
        problem(node, "found \(describe(node)), expected \(Self.article(type)) for \(what)\(hint)")
        return nil
    }

    static func convert(_ value: RunValue, to type: RunValueType) -> RunValue? {
        switch (type, value) {
        case (.any, _): return value
        case (.number, .int(let number)): return .double(Double(number))
        case (.duration, .int), (.duration, .double), (.duration, .string): return seconds(value).map(RunValue.duration)
        default: return value.type == type ? value : nil
        }
    }

    static func article(_ type: RunValueType) -> String {
        switch type {
        case .int: return "an int"
        case .any: return "any value"
        case .duration: return "a duration like 90s, 5m, 1h30m (\(DurationText.rangeText))"
        case .list: return "a list"
        case .map: return "a mapping"
        case .bool: return "a boolean (true or false)"
        default: return "a \(type.rawValue)"
        }
    }
}
