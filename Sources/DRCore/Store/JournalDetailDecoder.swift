import Foundation

/// Decodes journal details — JSON objects of `RunValue`s in the shape their synthesized `Codable`
/// writes (`{"string":{"_0":"x"}}`, `{"null":{}}`, …) — several times faster than `JSONDecoder`,
/// which dominates loading a long journal (`drctl resume`, `drctl show`).
///
/// It accepts only that exact shape, in strict JSON (RFC 8259: number grammar, no raw control
/// characters, valid UTF-8, each key once), and returns nil for anything else (an unknown case, a
/// change to `RunValue`'s coding, text JSON does not allow), so the caller falls back to
/// `JSONDecoder` and never gets a different value from the one `JSONDecoder` would give.
struct JournalDetailDecoder {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    private init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Decodes one detail object per element of `details`, or nil if any is not in the expected shape.
    static func decode(_ details: [Data]) -> [[String: RunValue]]? {
        var result: [[String: RunValue]] = []
        result.reserveCapacity(details.count)
        for detail in details {
            let decoded: [String: RunValue]? = detail.withUnsafeBytes { raw in
                var reader = JournalDetailDecoder(raw)
                guard let map = reader.map(), reader.atEnd() else { return nil }
                return map
            }
            guard let decoded else { return nil }
            result.append(decoded)
        }
        return result
    }

    // MARK: Grammar

    /// `{ "key": value, … }` where each value is an encoded RunValue.
    private mutating func map() -> [String: RunValue]? {
        guard consume(UInt8(ascii: "{")) else { return nil }
        var map: [String: RunValue] = [:]
        if consume(UInt8(ascii: "}")) { return map }
        repeat {
            guard let key = string(), consume(UInt8(ascii: ":")), let value = runValue(), map[key] == nil else { return nil }
            map[key] = value
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "}")) ? map : nil
    }

    /// `{"<case>":{"_0":payload}}` or `{"null":{}}`.
    private mutating func runValue() -> RunValue? {
        guard consume(UInt8(ascii: "{")), let tag = string(), consume(UInt8(ascii: ":")), consume(UInt8(ascii: "{")) else { return nil }
        let value: RunValue?
        if tag == "null" {
            value = .null
        } else {
            guard let key = string(), key == "_0", consume(UInt8(ascii: ":")) else { return nil }
            switch tag {
            case "bool": value = bool().map(RunValue.bool)
            case "int": value = number().flatMap { Int($0) }.map(RunValue.int)
            case "double": value = double().map(RunValue.double)
            case "duration": value = double().map(RunValue.duration)
            case "string": value = string().map(RunValue.string)
            case "list": value = list().map(RunValue.list)
            case "map": value = map().map(RunValue.map)
            default: value = nil
            }
        }
        guard value != nil, consume(UInt8(ascii: "}")), consume(UInt8(ascii: "}")) else { return nil }
        return value
    }

    private mutating func list() -> [RunValue]? {
        guard consume(UInt8(ascii: "[")) else { return nil }
        var list: [RunValue] = []
        if consume(UInt8(ascii: "]")) { return list }
        repeat {
            guard let value = runValue() else { return nil }
            list.append(value)
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "]")) ? list : nil
    }

    /// A number, or the strings the store's encoder writes for non-finite doubles.
    private mutating func double() -> Double? {
        skipWhitespace()
        if peek() == UInt8(ascii: "\"") {
            switch string() {
            case "+Infinity": return .infinity
            case "-Infinity": return -.infinity
            case "NaN": return .nan
            default: return nil
            }
        }
        // Out of Double's range: left to JSONDecoder, whose answer this reader must not change.
        return number().flatMap { Double($0) }.flatMap { $0.isFinite ? $0 : nil }
    }

    private mutating func bool() -> Bool? {
        if consumeWord("true") { return true }
        if consumeWord("false") { return false }
        return nil
    }

    /// The text of a JSON number (RFC 8259 §6): `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func number() -> String? {
        skipWhitespace()
        let start = index
        _ = consume(UInt8(ascii: "-"), skippingWhitespace: false)
        if consume(UInt8(ascii: "0"), skippingWhitespace: false) {
            guard !isDigit(peek()) else { return nil }
        } else {
            guard digits() else { return nil }
        }
        if consume(UInt8(ascii: "."), skippingWhitespace: false) {
            guard digits() else { return nil }
        }
        if consume(UInt8(ascii: "e"), skippingWhitespace: false) || consume(UInt8(ascii: "E"), skippingWhitespace: false) {
            if !consume(UInt8(ascii: "+"), skippingWhitespace: false) { _ = consume(UInt8(ascii: "-"), skippingWhitespace: false) }
            // More than four exponent digits (`1e-001000000000000000`): JSONDecoder refuses some of
            // these; this reader declines them all (drctl never writes one) — a fuzz finding.
            let exponentStart = index
            guard digits(), index - exponentStart <= 4 else { return nil }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    /// One or more decimal digits.
    private mutating func digits() -> Bool {
        let start = index
        while isDigit(peek()) { index += 1 }
        return index > start
    }

    private func isDigit(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// A JSON string (RFC 8259 §7), including \uXXXX escapes and surrogate pairs.
    private mutating func string() -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        let start = index
        // Fast path: no escapes. Control characters must be escaped (§7); bytes must be UTF-8 (§8.1).
        while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
            guard bytes[index] >= 0x20 else { return nil }
            index += 1
        }
        guard index < bytes.count,
              let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self) else { return nil }
        if bytes[index] == UInt8(ascii: "\"") {
            index += 1
            return text
        }
        var scalars: [UInt8] = Array(text.utf8)
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(validating: scalars, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    guard var code = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(code) {
                        guard consume(UInt8(ascii: "\\"), skippingWhitespace: false), consume(UInt8(ascii: "u"), skippingWhitespace: false),
                              let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { return nil }
                    scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: return nil
                }
            case 0..<0x20:
                return nil
            default:
                scalars.append(byte)
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            index += 1
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    // MARK: Tokens

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func consume(_ byte: UInt8, skippingWhitespace: Bool = true) -> Bool {
        if skippingWhitespace { skipWhitespace() }
        guard peek() == byte else { return false }
        index += 1
        return true
    }

    private mutating func consumeWord(_ word: StaticString) -> Bool {
        skipWhitespace()
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
        index += count
        return true
    }

    private mutating func atEnd() -> Bool {
        skipWhitespace()
        return index == bytes.count
    }
}
