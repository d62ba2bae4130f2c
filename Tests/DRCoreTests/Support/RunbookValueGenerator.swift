import DRCore

/// Runbook values built in code, as generators build them, from a seeded random source: hostile
/// strings everywhere a string goes, every argument type, expressions that validate (references
/// only to declared inputs and to steps surely finished). Every value is in the form the loader
/// itself produces, so a render → load round trip must give it back exactly.
struct RunbookValueGenerator {
    /// SplitMix64: small, seedable, the same sequence on every platform.
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }

    static let hostile: [String] = [
        "", " ", "  ", "yes", "No", "ON", "off", "y", "n", "null", "Null", "~", "true", "FALSE", "0123", "1e3", "-1", "+1",
        "0x1F", "0o17", "1_000", ".inf", "-.INF", ".nan", "12:30:00", "2026-01-02", "*alias", "&anchor", "!tag", "!!str",
        "%YAML 1.2", "@at", "`tick", "a: b", "a:b", "a #b", "# comment", "- item", "-", "? key", "|", ">", "[x, y]",
        "{y: z}", "'single'", "\"double\"", "it's", "back\\slash", "\\n", "line\nbreak", "\r\n", "tab\there", "\t",
        " leading", "trailing ", "ünïcödé", "日本語", "emoji 🚀", "e\u{301}", "\"\u{301}", "'\u{301}", "\u{0}",
        "\u{7}bell", "\u{1B}[31m", "\u{7F}", "\u{85}nel", "\u{A0}nbsp", "\u{2028}ls", "\u{2029}", "x\u{FEFF}bom", "\u{FFFE}",
        "\u{10FFFF}", "}}", "$", "${", "{{", "$$", "---", "...", "<<", "=", "%", "a,b", "x: [1, {", "\\", "'", "\"",
        String(repeating: "k", count: 1100), "plain words", "/path/to/file.txt", "us-west-2",
    ]

    mutating func hostileString() -> String {
        if chance(15) { return pick(Self.hostile) + pick(Self.hostile) }
        return pick(Self.hostile)
    }

    /// Text parts of a template hold no `${{` (the loader would read it as an expression).
    mutating func textPart() -> String {
        var text = hostileString()
        while text.isEmpty || text.contains(TemplateParser.opening) { text = hostileString() }
        return text
    }

    mutating func name(allowUnderscore: Bool) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789-" + (allowUnderscore ? "_" : ""))
        if chance(20) { return pick(["null", "true", "yes", "1e3", "0123", "-", "1"]) }
        return String((0..<int(1...10)).map { _ in pick(letters) })
    }

    mutating func identifier() -> String {
        if chance(15) { return pick(["null", "true", "yes", "on", "x-1", "_"]) }
        let first = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
        let rest = Array("abcdefghijklmnopqrstuvwxyz0123456789_-")
        return String(pick(first)) + String((0..<int(0...8)).map { _ in pick(rest) })
    }

    /// Seconds within `DurationText`'s range, often fractional or tiny (which `format` rounds).
    mutating func seconds(allowZero: Bool = true) -> Double {
        let candidates: [Double] = [1, 1.5, 0.25, 0.001, 0.00001, 90, 5400, 86400 * 366, 3599.999, 0.1 + 0.2, 1e-7, 12345.678]
        var value = chance(50) ? pick(candidates) : Double(int(0...100_000)) / pick([1, 10, 1000, 7])
        if !allowZero && value == 0 { value = 1 }
        return allowZero && chance(5) ? 0 : value
    }

    mutating func double() -> Double {
        pick([0, -0.0, 0.5, -2.25, 1e20, 1e-5, 5e-324, 1.7976931348623157e308, 3.0, 0.1 + 0.2, Double(int(-1000...1000)) / 8])
    }

    /// A constant a YAML value can spell (no durations inside, finite numbers).
    mutating func plainValue(depth: Int = 0) -> RunValue {
        switch int(0...(depth < 3 ? 7 : 4)) {
        case 0: return .null
        case 1: return .bool(chance(50))
        case 2: return .int(chance(10) ? pick([Int.min, Int.max]) : int(-1_000_000...1_000_000))
        case 3: return .double(double())
        case 4: return .string(hostileString())
        case 5, 6: return .list((0..<int(0...3)).map { _ in plainValue(depth: depth + 1) })
        default:
            var map: [String: RunValue] = [:]
            for _ in 0..<int(0...3) { map[hostileString()] = plainValue(depth: depth + 1) }
            return .map(map)
        }
    }

    // MARK: Expressions

    mutating func reference(inputs: [String], ancestors: [String]) -> Expression {
        switch int(0...3) {
        case 0 where !inputs.isEmpty: return .reference(["inputs", pick(inputs)])
        case 1 where !ancestors.isEmpty: return .reference(["steps", pick(ancestors), "status"])
        case 2 where !ancestors.isEmpty:
            var path = ["steps", pick(ancestors), "outputs", identifier()]
            for _ in 0..<int(0...2) { path.append(chance(50) ? String(int(0...20)) : identifier()) }
            return .reference(path)
        default: return .reference(["run", pick(["id", "name", "mode", "operator"])])
        }
    }

    mutating func expression(inputs: [String], ancestors: [String], depth: Int = 0) -> Expression {
        let leaf = depth >= 4 || chance(30)
        if leaf {
            switch int(0...5) {
            case 0: return .literal(.string(hostileString()))
            case 1: return .literal(.int(int(-5000...5000)))
            case 2: return .literal(.double(double()))
            case 3: return .literal(pick([.bool(true), .bool(false), .null]))
            default: return reference(inputs: inputs, ancestors: ancestors)
            }
        }
        let sub = { (g: inout RunbookValueGenerator) in g.expression(inputs: inputs, ancestors: ancestors, depth: depth + 1) }
        switch int(0...3) {
        case 0: return .not(sub(&self))
        case 1, 2:
            let op = pick([Expression.BinaryOperator.equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual, .and, .or])
            return .binary(op, sub(&self), sub(&self))
        default:
            let (name, count) = pick([("contains", 2), ("startsWith", 2), ("endsWith", 2), ("length", 1), ("duration", 1),
                                      ("format", int(1...4)), ("lower", 1), ("upper", 1)])
            return .call(name, (0..<count).map { _ in sub(&self) })
        }
    }

    /// Boolean for `when`: a comparison, `!`, `&&`/`||`, or a YAML boolean.
    mutating func condition(inputs: [String], ancestors: [String]) -> Expression {
        if chance(15) { return .literal(.bool(chance(50))) }
        let inner = expression(inputs: inputs, ancestors: ancestors, depth: 1)
        return pick([.not(inner), .binary(pick([.equal, .and, .or, .less]), inner, expression(inputs: inputs, ancestors: ancestors, depth: 2))])
    }

    /// Text and expressions, as `TemplateParser` splits them: no empty or adjacent text parts.
    mutating func stringTemplate(inputs: [String], ancestors: [String]) -> Template {
        if chance(40) { return .literal(.string(hostileString().replacingOccurrences(of: TemplateParser.opening, with: "$"))) }
        var parts: [Template.Part] = []
        for _ in 0..<int(1...4) {
            if case .text? = parts.last {
                parts.append(.expression(expression(inputs: inputs, ancestors: ancestors)))
            } else {
                parts.append(chance(50) ? .text(textPart()) : .expression(expression(inputs: inputs, ancestors: ancestors)))
            }
        }
        return Template(parts: parts)
    }
}
