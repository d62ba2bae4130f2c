/// Conversions of Doubles that cannot trap. `Int(x)` traps when `x` is NaN, infinite or beyond
/// `Int`'s range; the Doubles drctl converts come from clocks, clouds, expressions and arithmetic
/// on them (a ratio to a zero budget, a deadline far away), so each conversion saturates instead.
extension FixedWidthInteger {
    /// `value` rounded toward zero, clamped to this type's range; NaN becomes zero.
    public init(saturating value: Double) {
        if value.isNaN {
            self = 0
        } else if value <= Double(Self.min) {
            self = .min
        } else if value >= Double(Self.max) {
            // Double(Int64.max) rounds up to 2^63, so `>=` catches everything that would not fit.
            self = .max
        } else {
            self.init(value.rounded(.towardZero))
        }
    }
}

extension Duration {
    /// A sleep or a time limit of `seconds`: NaN and negatives are no time at all, anything beyond
    /// `DurationText.maximumSeconds` (a year) is a year.
    public static func seconds(saturating seconds: Double) -> Duration {
        guard seconds > 0 else { return .zero }
        return .milliseconds(Int64(saturating: (Swift.min(seconds, DurationText.maximumSeconds) * 1000).rounded()))
    }
}
