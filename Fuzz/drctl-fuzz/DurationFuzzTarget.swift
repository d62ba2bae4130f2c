import DRCore

/// Durations (`90s`, `1h30m`, `250ms`, plain seconds), the one syntax of `timeout`, `estimate`,
/// budgets and `duration()`: an accepted duration is finite and in range, and the text drctl shows
/// for it (`DurationText.format`) reads back as the same duration, to the unit shown.
enum DurationFuzzTarget {
    static let target = FuzzTarget(name: "duration") { bytes in
        let source = text(bytes)
        guard let seconds = DurationText.parse(source) else { return }
        requireDurationInRange(seconds, "'\(source)'")
        let shown = DurationText.format(seconds)
        guard let again = DurationText.parse(shown) else {
            require(false, "'\(source)' = \(seconds) s is shown as '\(shown)', which does not parse")
            return
        }
        let tolerance = seconds < 1 ? 0.0005 : 0.5
        require(abs(again - seconds) <= tolerance + 1e-9, "'\(source)' = \(seconds) s is shown as '\(shown)' = \(again) s")
    }
}
