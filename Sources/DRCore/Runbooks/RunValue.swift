/// A value in a runbook: an input, a `with` argument after evaluation, a step output.
/// Deliberately small (JSON's types plus durations) so it journals as JSON and compares exactly.
public enum RunValue: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    /// Whole seconds (runbook durations like "90s", "5m", "4h" are parsed to seconds).
    case duration(Double)
    case list([RunValue])
    case map([String: RunValue])

    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        case .string(let value): return value
        case .duration(let seconds): return DurationText.format(seconds)
        case .list(let values): return "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .map(let map): return "{" + map.keys.sorted().map { "\($0): \(map[$0]!)" }.joined(separator: ", ") + "}"
        }
    }

    public var type: RunValueType {
        switch self {
        case .null: return .null
        case .bool: return .bool
        case .int: return .int
        case .double: return .number
        case .string: return .string
        case .duration: return .duration
        case .list: return .list
        case .map: return .map
        }
    }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var intValue: Int? { if case .int(let i) = self { return i } else { return nil } }
    /// Seconds, for a duration or a plain number of seconds.
    public var secondsValue: Double? {
        switch self {
        case .duration(let s), .double(let s): return s
        case .int(let i): return Double(i)
        default: return nil
        }
    }
}

/// The types a runbook input or expression may have; checked at validation time where possible.
public enum RunValueType: String, Sendable, Codable, CaseIterable {
    case null, bool, int, number, string, duration, list, map, any
}
