import Foundation

/// A JSON document written deterministically: keys sorted, every key present (absent values are
/// `null`, not missing), numbers without exponent noise, dates in UTC ISO 8601 with milliseconds.
/// Machines diff evidence files; the same run must always give the same bytes.
public indirect enum ReportJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case array([ReportJSON])
    case object([String: ReportJSON])

    public static func optional(_ value: String?) -> ReportJSON { value.map(ReportJSON.string) ?? .null }
    public static func optional(_ value: Double?) -> ReportJSON { value.map(seconds) ?? .null }
    public static func optional(_ value: Date?) -> ReportJSON { value.map(date) ?? .null }

    /// Seconds rounded to milliseconds, so float noise never changes the file.
    public static func seconds(_ value: Double) -> ReportJSON { .number((value * 1000).rounded() / 1000) }

    public static func date(_ value: Date) -> ReportJSON { .string(ReportTime.iso8601(value)) }

    /// Pretty-printed with two-space indentation and a final newline.
    public func rendered() -> String {
        var out = ""
        write(into: &out, indent: 0)
        return out + "\n"
    }

    private func write(into out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent + 1), closing = String(repeating: "  ", count: indent)
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .number(let value):
            if !value.isFinite { out += "null" }
            else if value == value.rounded(), abs(value) < 1e15 { out += String(Int(value)) }
            else { out += String(value) }
        case .string(let value): out += Self.quote(value)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "[\n"
            for (index, item) in items.enumerated() {
                out += pad
                item.write(into: &out, indent: indent + 1)
                out += index < items.count - 1 ? ",\n" : "\n"
            }
            out += closing + "]"
        case .object(let members):
            guard !members.isEmpty else { out += "{}"; return }
            out += "{\n"
            let keys = members.keys.sorted()
            for (index, key) in keys.enumerated() {
                out += pad + Self.quote(key) + ": "
                members[key]!.write(into: &out, indent: indent + 1)
                out += index < keys.count - 1 ? ",\n" : "\n"
            }
            out += closing + "}"
        }
    }

    /// RFC 8259 §7: quote, backslash and control characters escaped; the rest is UTF-8 as is.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20 || c.value == 0x2028 || c.value == 0x2029:
                out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Dates as reports show them: UTC, ISO 8601.
public enum ReportTime {
    public static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// "2026-05-04 13:02:11 UTC" for people.
    public static func readable(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date) + " UTC"
    }
}
