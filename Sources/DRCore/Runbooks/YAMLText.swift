/// Strings written as YAML scalars that every YAML reader takes back as exactly that string.
///
/// Plain (unquoted) only when nothing can misread it: a conservative set of characters, and not a
/// word that some schema resolves to something else — drctl's reader follows YAML 1.2's core
/// schema, but a runbook shown by `--print-runbook` is also read by people's tools, where YAML 1.1
/// makes `yes`, `off`, `0123` or `2026-01-02` something other than text. Everything else is
/// double-quoted, with escapes for what libyaml would not take raw (control characters, line
/// separators, non-characters) — one line whatever the text.
enum YAMLText {
    static func scalar(_ text: String) -> String {
        isSafePlain(text) ? text : doubleQuoted(text)
    }

    /// A mapping key: libyaml takes an implicit key of at most 1024 characters; a longer one is
    /// written as an explicit `? key` entry by the caller (see `needsExplicitKey`).
    static func key(_ text: String) -> String { scalar(text) }

    static func needsExplicitKey(_ rendered: String) -> Bool { rendered.unicodeScalars.count > 1000 }

    /// YAML 1.1 booleans and nulls, in any case.
    private static let specialWords: Set<String> = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"]

    private static func isSafePlain(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else { return false }
        // A letter, '_' or '/' first: never a number, date, indicator (- ? : , [ ] { } # & * ! | > ' " % @ `) or `.inf`.
        guard (first >= "a" && first <= "z") || (first >= "A" && first <= "Z") || first == "_" || first == "/" else { return false }
        guard last != " " else { return false }
        guard text.utf8.count > 5 || !specialWords.contains(text.lowercased()) else { return false }
        var previous: Unicode.Scalar = " "
        for scalar in text.unicodeScalars {
            let allowed = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
                || scalar == "_" || scalar == "-" || scalar == "." || scalar == "/" || scalar == " "
            // Two spaces are kept by YAML, but read as a mistake; quoting says they are meant.
            guard allowed, !(scalar == " " && previous == " ") else { return false }
            previous = scalar
        }
        return true
    }

    static func doubleQuoted(_ text: String) -> String {
        // Most text needs no escape at all: one pass to tell, no copy scalar by scalar.
        if !text.unicodeScalars.contains(where: { $0 == "\"" || $0 == "\\" || needsEscape($0) }) { return "\"" + text + "\"" }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
            default:
                if needsEscape(scalar) {
                    out += escaped(scalar)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// What libyaml's reader refuses raw, or folds inside a quoted scalar: C0 and C1 controls, DEL,
    /// NEL and the Unicode line and paragraph separators, the byte order mark, U+FFFE and U+FFFF.
    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F...0xA0, 0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF: return true
        default: return false
        }
    }

    private static func escaped(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        if scalar.value <= 0xFF { return "\\x" + String(repeating: "0", count: 2 - hex.count) + hex }
        if scalar.value <= 0xFFFF { return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex }
        return "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
    }
}
