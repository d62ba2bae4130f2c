import DRCore
import Foundation

/// JSON on stdout, keys sorted so output is stable for scripts and tests.
enum JSONOutput {
    /// One pretty-printed document: what a command that answers once prints.
    static func print<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    /// One object on one line (JSON Lines): what a failover or switchover prints from its
    /// preflight to its summary, between the engine's event lines (same lock, so lines never
    /// interleave). Types name their snake_case keys themselves: a strategy would also rewrite
    /// dictionary keys such as step ids.
    static func line<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        OutputLock.shared.write(String(decoding: data, as: UTF8.self) + "\n")
    }
}

/// A run value as plain JSON for scripts: null, booleans, numbers, strings, arrays and objects;
/// a duration is its number of seconds; a non-finite number is the string "+Infinity",
/// "-Infinity" or "NaN" (JSON has no such numbers).
struct PlainJSONValue: Encodable {
    let value: RunValue

    init(_ value: RunValue) { self.value = value }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch value {
        case .null: try container.encodeNil()
        case .bool(let bool): try container.encode(bool)
        case .int(let int): try container.encode(int)
        case .double(let number), .duration(let number):
            if number.isFinite { try container.encode(number) }
            else { try container.encode(number.isNaN ? "NaN" : number > 0 ? "+Infinity" : "-Infinity") }
        case .string(let string): try container.encode(string)
        case .list(let values): try container.encode(values.map(PlainJSONValue.init))
        case .map(let values): try container.encode(values.mapValues(PlainJSONValue.init))
        }
    }
}
