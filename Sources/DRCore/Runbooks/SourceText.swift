/// Checks on a runbook's raw text made before YAML parsing: encoding and nesting depth.
enum SourceText {
    struct Position: Error, Equatable {
        var line: Int
        var column: Int
    }

    /// The text, or the line and column (in Unicode scalars, as libyaml counts) of the first byte
    /// that is not valid UTF-8.
    static func decodeUTF8(_ bytes: [UInt8]) -> Result<String, Position> {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var position = Position(line: 1, column: 1)
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar == "\n" {
                    position.line += 1
                    position.column = 1
                } else {
                    position.column += 1
                }
            case .emptyInput:
                return .success(String(decoding: bytes, as: UTF8.self))
            case .error:
                return .failure(position)
            }
        }
    }

    /// The position where nesting first exceeds `limit`, counting block indentation levels, block
    /// sequence dashes and flow brackets. An estimate by design: it must be cheap, must never let a
    /// pathological file reach the recursive composer, and ordinary runbooks are far below the limit.
    static func firstPositionDeeperThan(_ limit: Int, in text: String) -> Position? {
        var indents: [Int] = []
        var flowDepth = 0
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let scalars = Array(line.unicodeScalars)
            var column = 0
            while column < scalars.count, scalars[column] == " " { column += 1 }
            guard column < scalars.count, scalars[column] != "#", scalars[column] != "\r" else { continue }
            if flowDepth == 0 {
                while let last = indents.last, last >= column { indents.removeLast() }
                indents.append(column)
                // "- - - x": each dash opens one more level on the same line.
                while column + 1 < scalars.count, scalars[column] == "-", scalars[column + 1] == " " || scalars[column + 1] == "\t" {
                    column += 2
                    while column < scalars.count, scalars[column] == " " { column += 1 }
                    indents.append(column)
                    if indents.count > limit { return Position(line: lineNumber, column: column + 1) }
                }
                if indents.count > limit { return Position(line: lineNumber, column: column + 1) }
            }
            var quote: Unicode.Scalar?
            var index = column
            while index < scalars.count {
                let c = scalars[index]
                if let q = quote {
                    if c == q { quote = nil } else if c == "\\" && q == "\"" { index += 1 }
                } else {
                    switch c {
                    case "\"", "'":
                        // A quote opens a string only where a scalar can start, not inside `it's`.
                        if index == 0 || " [{,:-".unicodeScalars.contains(scalars[index - 1]) { quote = c }
                    case "#" where index == 0 || scalars[index - 1] == " ":
                        index = scalars.count
                    case "[", "{":
                        flowDepth += 1
                        if indents.count + flowDepth > limit { return Position(line: lineNumber, column: index + 1) }
                    case "]", "}":
                        flowDepth = max(0, flowDepth - 1)
                    default:
                        break
                    }
                }
                index += 1
            }
        }
        return nil
    }
}
