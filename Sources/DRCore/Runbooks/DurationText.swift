import Foundation

/// "90s", "5m", "1h30m", "2d", "250ms"; also plain seconds ("90", "1.5"). The one duration syntax of
/// runbooks, plans and flags, with one range: 0 to 366 days.
///
/// The bound is what keeps the arithmetic that follows safe: deadlines, sleeps in milliseconds and
/// the `Int` conversions of reports and renderers trap on an infinite or huge Double, and no step,
/// budget or drill of a DR plan meaningfully lasts longer than a year.
public enum DurationText {
    public static let maximumSeconds: Double = 366 * 86_400
    /// The range as messages state it.
    public static let rangeText = "0s to 366d"

    public enum Reading: Sendable, Equatable {
        case seconds(Double)
        /// Written as a duration, but longer than `maximumSeconds` (or beyond any Double).
        case outOfRange
        case notADuration
    }

    /// The seconds, or nil for text that is not a duration or is out of range.
    public static func parse(_ text: String) -> Double? {
        if case .seconds(let seconds) = read(text) { return seconds }
        return nil
    }

    public static func read(_ text: String) -> Reading {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return .notADuration }
        // Plain seconds: digits and one dot only — Double() would also take "inf", "nan", "1e300", "0x1p3".
        if let seconds = decimal(rest) { return checked(seconds) }
        var total = 0.0
        while !rest.isEmpty {
            let digits = rest.prefix { ("0"..."9").contains($0) || $0 == "." }
            guard let value = decimal(digits) else { return .notADuration }
            rest = rest.dropFirst(digits.count)
            let unit: Double
            if rest.hasPrefix("ms") {
                unit = 0.001
                rest = rest.dropFirst(2)
            } else {
                switch rest.first {
                case "s": unit = 1
                case "m": unit = 60
                case "h": unit = 3600
                case "d": unit = 86400
                default: return .notADuration
                }
                rest = rest.dropFirst()
            }
            total += value * unit
        }
        return checked(total)
    }

    /// A number of seconds given as a number (YAML `90`, an expression's value): within range or nil.
    public static func seconds(fromNumber seconds: Double) -> Double? {
        seconds.isFinite && seconds >= 0 && seconds <= maximumSeconds ? seconds : nil
    }

    /// `[0-9]+(.[0-9]*)?` or `.[0-9]+`, as a Double (a very long one may be infinite: `checked` refuses it).
    private static func decimal(_ text: Substring) -> Double? {
        guard text.contains(where: { ("0"..."9").contains($0) }), text.filter({ $0 == "." }).count <= 1,
              text.allSatisfy({ ("0"..."9").contains($0) || $0 == "." }) else { return nil }
        return Double(String(text))
    }

    private static func checked(_ seconds: Double) -> Reading {
        seconds.isFinite && seconds <= maximumSeconds ? .seconds(seconds) : .outOfRange
    }

    /// "1h30m", "250ms". Any Double, so that what was measured (or computed from a clock) prints
    /// without trapping: NaN is "unknown", infinity "forever".
    public static func format(_ seconds: Double) -> String {
        guard !seconds.isNaN else { return "unknown" }
        if seconds < 0 { return "-" + format(-seconds) }
        guard seconds.isFinite else { return "forever" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        var remaining = Int(saturating: seconds.rounded())
        var parts: [String] = []
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where remaining >= size {
            parts.append("\(remaining / size)\(unit)")
            remaining %= size
        }
        return parts.isEmpty ? "0s" : parts.joined()
    }
}
