/// A token of the expression language with its 1-based column.
struct ExpressionToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case identifier(String)
        case string(String)
        case int(Int)
        case double(Double)
        /// `( ) , . ! == != < <= > >= && ||`
        case symbol(String)
        case end

        var display: String {
            switch self {
            case .identifier(let name): return "'\(name)'"
            case .string(let value): return "the string '\(value)'"
            case .int(let value): return "the number \(value)"
            case .double(let value): return "the number \(value)"
            case .symbol(let symbol): return "'\(symbol)'"
            case .end: return "the end of the expression"
            }
        }
    }

    var kind: Kind
    var column: Int
}

/// Splits expression text into tokens. Identifiers may contain `-` after their first character
/// (step ids such as `promote-db`); there is no subtraction, so this is unambiguous.
struct ExpressionLexer {
    private let scalars: [Unicode.Scalar]
    private var position = 0

    init(scalars: [Unicode.Scalar]) {
        self.scalars = scalars
    }

    mutating func tokenize() throws(ExpressionSyntaxError) -> [ExpressionToken] {
        var tokens: [ExpressionToken] = []
        while true {
            while position < scalars.count, scalars[position].properties.isWhitespace { position += 1 }
            guard position < scalars.count else {
                tokens.append(ExpressionToken(kind: .end, column: position + 1))
                return tokens
            }
            tokens.append(try next())
        }
    }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        position + offset < scalars.count ? scalars[position + offset] : nil
    }

    private static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_"
    }

    private static func isIdentifierPart(_ c: Unicode.Scalar) -> Bool {
        isIdentifierStart(c) || isDigit(c) || c == "-"
    }

    private static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

    private mutating func next() throws(ExpressionSyntaxError) -> ExpressionToken {
        let start = position
        let column = start + 1
        let c = scalars[position]
        if Self.isIdentifierStart(c) {
            while let p = peek(), Self.isIdentifierPart(p) { position += 1 }
            return ExpressionToken(kind: .identifier(String(String.UnicodeScalarView(scalars[start..<position]))), column: column)
        }
        if Self.isDigit(c) || (c == "-" && peek(1).map(Self.isDigit) == true) {
            return try number(column: column)
        }
        if c == "'" || c == "\"" {
            return try string(quote: c, column: column)
        }
        let two = peek(1).map { String(c) + String($0) } ?? ""
        if ["==", "!=", "<=", ">=", "&&", "||"].contains(two) {
            position += 2
            return ExpressionToken(kind: .symbol(two), column: column)
        }
        if "(),.!<>".unicodeScalars.contains(c) {
            position += 1
            return ExpressionToken(kind: .symbol(String(c)), column: column)
        }
        let hint: String
        switch c {
        case "=": hint = " (use == to compare)"
        case "&": hint = " (use && for and)"
        case "|": hint = " (use || for or)"
        case "$", "{", "}": hint = " (an expression inside ${{ }} needs no second ${{ }})"
        default: hint = ""
        }
        throw ExpressionSyntaxError(column: column, message: "found '\(c)', expected a value, an operator, '(' or ')'\(hint)")
    }

    private mutating func number(column: Int) throws(ExpressionSyntaxError) -> ExpressionToken {
        let start = position
        if peek() == "-" { position += 1 }
        var isDouble = false
        while let p = peek(), Self.isDigit(p) || p == "." || p == "e" || p == "E" || ((p == "+" || p == "-") && isDouble) {
            if p == "." {
                // `steps.x.outputs.items.0.name`: a dot not followed by a digit ends the number.
                guard let after = peek(1), Self.isDigit(after), !isDouble else { break }
            }
            if p == "." || p == "e" || p == "E" { isDouble = true }
            position += 1
        }
        let text = String(String.UnicodeScalarView(scalars[start..<position]))
        if let p = peek(), Self.isIdentifierStart(p) {
            throw ExpressionSyntaxError(column: position + 1,
                                        message: "found '\(p)' after the number \(text), expected an operator (write durations as duration('\(text)\(p)…'))")
        }
        if !isDouble, let value = Int(text) { return ExpressionToken(kind: .int(value), column: column) }
        if let value = Double(text), value.isFinite { return ExpressionToken(kind: .double(value), column: column) }
        throw ExpressionSyntaxError(column: column, message: "found '\(text)', expected a number")
    }

    private mutating func string(quote: Unicode.Scalar, column: Int) throws(ExpressionSyntaxError) -> ExpressionToken {
        position += 1
        var value = String.UnicodeScalarView()
        while let c = peek() {
            position += 1
            if c == quote { return ExpressionToken(kind: .string(String(value)), column: column) }
            guard c == "\\" else {
                value.append(c)
                continue
            }
            guard let escaped = peek() else { break }
            position += 1
            switch escaped {
            case "n": value.append("\n")
            case "t": value.append("\t")
            case "r": value.append("\r")
            case "\\", "'", "\"": value.append(escaped)
            default:
                throw ExpressionSyntaxError(column: position - 1,
                                            message: "found the escape '\\\(escaped)', expected one of \\n \\t \\r \\\\ \\' \\\"")
            }
        }
        throw ExpressionSyntaxError(column: column, message: "found a string without its closing \(quote), expected \(quote) before the end")
    }
}
