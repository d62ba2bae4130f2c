/// Expressions and templates back to source text that `ExpressionParser` / `TemplateParser` read as
/// the same value — what `RunbookRenderer` writes. Parsing keeps no source text, so this prints the
/// tree with the fewest parentheses its precedence needs (`description`, for messages, brackets every
/// operation: a chain of 70 `&&` would print 70 levels deep, past `ExpressionParser.maximumDepth`).
///
/// The readable form has spaces around operators. When it is longer than
/// `ExpressionParser.maximumLength`, the compact form is used: no spaces, shortest numbers, string
/// literals in the quote that needs fewer escapes and with raw newlines — never longer than any text
/// the parser could have read the expression from, so what was accepted once is accepted again.
extension Expression {
    public var sourceText: String {
        let readable = ExpressionPrinter(compact: false).print(self, minimum: .or)
        guard readable.unicodeScalars.count > ExpressionParser.maximumLength else { return readable }
        return ExpressionPrinter(compact: true).print(self, minimum: .or)
    }
}

extension Template {
    /// The text of a template made of parts (`"a ${{ inputs.x }} b"`); nil for a constant or a
    /// structure, which are YAML values rather than text. Text that holds `${{` itself (possible
    /// only in templates built in code) is written as a string literal expression, which
    /// evaluates to the same text.
    public var sourceText: String? {
        guard constant == nil, structure == nil else { return nil }
        var out = ""
        var text = ""
        // Adjacent text parts are joined first: "$" and "{{" side by side would form "${{".
        func flush() {
            out += text.contains(TemplateParser.opening) ? Self.embed(.literal(.string(text))) : text
            text = ""
        }
        for part in parts {
            switch part {
            case .text(let literal):
                text += literal
            case .expression(let expression):
                flush()
                out += Self.embed(expression)
            }
        }
        flush()
        return out
    }

    /// `${{ expr }}`; without the padding spaces when they would take it past the length limit
    /// (the template parser hands the text between the braces, spaces included, to the expression parser).
    static func embed(_ expression: Expression) -> String {
        let source = expression.sourceText
        if source.unicodeScalars.count + 2 <= ExpressionParser.maximumLength { return "${{ \(source) }}" }
        return "${{\(source)}}"
    }
}

/// Precedence climbing in reverse: each operand is printed at the least binding level its position
/// allows, in parentheses only below it (see the grammar in `ExpressionParser`).
private struct ExpressionPrinter {
    enum Level: Int, Comparable {
        case or = 1, and, comparison, unary, primary
        static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    let compact: Bool

    func print(_ expression: Expression, minimum: Level) -> String {
        let text: String
        let level: Level
        switch expression {
        case .literal(let value):
            (text, level) = (literal(value), .primary)
        case .reference(let path):
            (text, level) = (reference(path), .primary)
        case .call(let name, let arguments):
            let separator = compact ? "," : ", "
            (text, level) = ("\(name)(\(arguments.map { print($0, minimum: .or) }.joined(separator: separator)))", .primary)
        case .not(let inner):
            (text, level) = ("!" + print(inner, minimum: .unary), .unary)
        case .binary(let op, let lhs, let rhs):
            // `||` and `&&` associate to the left; comparisons do not chain.
            let (own, left, right): (Level, Level, Level)
            switch op {
            case .or: (own, left, right) = (.or, .or, .and)
            case .and: (own, left, right) = (.and, .and, .comparison)
            default: (own, left, right) = (.comparison, .unary, .unary)
            }
            let space = compact ? "" : " "
            (text, level) = (print(lhs, minimum: left) + space + op.rawValue + space + print(rhs, minimum: right), own)
        }
        return level < minimum ? "(\(text))" : text
    }

    /// Segments joined by dots; a numeric segment followed by one that starts with a digit gets a
    /// space before the dot, or the lexer would read `items.0.1` as the number 0.1.
    private func reference(_ path: [String]) -> String {
        var out = ""
        for (index, segment) in path.enumerated() {
            if index > 0 {
                let previous = path[index - 1]
                let joinsAsNumber = previous.last.map { $0.isASCII && $0.isNumber } == true && segment.first.map { $0.isASCII && $0.isNumber } == true
                out += joinsAsNumber ? " ." : "."
            }
            out += segment
        }
        return out
    }

    private func literal(_ value: RunValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .double(let number): return compact ? Self.shortest(number) : String(number)
        case .string(let text): return string(text)
        // No literal syntax for these: the parser never makes them, code may. A duration reads back
        // as the call that makes one; a list or map prints as its description, which does not parse
        // (loudly, at validation), rather than as something else.
        case .duration(let seconds): return "duration(\(string(DurationText.format(seconds))))"
        case .list, .map: return value.description
        }
    }

    /// A string literal as `ExpressionLexer` reads it, by Unicode scalar (a quote followed by a
    /// combining mark is one Character, and must still be escaped).
    private func string(_ text: String) -> String {
        var singles = 0, doubles = 0
        for scalar in text.unicodeScalars {
            if scalar == "'" { singles += 1 } else if scalar == "\"" { doubles += 1 }
        }
        let quote: Unicode.Scalar = compact && singles > doubles ? "\"" : "'"
        var out = String.UnicodeScalarView()
        out.append(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\", quote: out.append("\\"); out.append(scalar)
            case "\n" where !compact: out.append(contentsOf: "\\n".unicodeScalars)
            case "\t" where !compact: out.append(contentsOf: "\\t".unicodeScalars)
            case "\r" where !compact: out.append(contentsOf: "\\r".unicodeScalars)
            default: out.append(scalar)
            }
        }
        out.append(quote)
        return String(out)
    }

    /// The shortest text the lexer reads as this double: Swift's shortest round-trip digits, with
    /// the exponent written briefly ("1e+20" → "1e20", "1e-05" → "1e-5", "1000.0" → "1e3").
    static func shortest(_ number: Double) -> String {
        let plain = String(number)
        guard let e = plain.firstIndex(where: { $0 == "e" || $0 == "E" }) else {
            guard plain.hasSuffix(".0") else { return plain }
            let whole = plain.dropLast(2)
            let zeros = whole.reversed().prefix { $0 == "0" }.count
            let scientific = "\(whole.dropLast(zeros))e\(zeros)"
            return zeros > 0 && !whole.dropLast(zeros).isEmpty && whole.dropLast(zeros) != "-" && scientific.count < plain.count
                ? scientific : plain
        }
        let mantissa = plain[..<e]
        var exponent = plain[plain.index(after: e)...]
        var sign = ""
        if exponent.first == "+" { exponent = exponent.dropFirst() } else if exponent.first == "-" { sign = "-"; exponent = exponent.dropFirst() }
        let digits = exponent.drop { $0 == "0" }
        return "\(mantissa)e\(sign)\(digits.isEmpty ? "0" : digits)"
    }
}
