import DRCore
import Testing

@Suite("Every duration and integer of runbooks and plans has an explicit range")
struct NumericRangeTests {
    /// The loader's verdict on `field` holding `value`: nil when it loads.
    static func problems(_ field: NumericField, _ value: String) -> [RunbookProblem]? {
        let text = field.text(with: value)
        do {
            switch field.kind {
            case .runbook: _ = try RunbookLoader.parse(text: text, path: "numbers.yaml")
            case .plan: _ = try DRPlanLoader.parse(bytes: Array(text.utf8), path: "numbers.yaml", sections: PlanSections.all)
            }
            return nil
        } catch {
            return error.problems
        }
    }

    @Test(arguments: BadNumber.all)
    func badNumberIsRefusedWhereItIsWritten(_ bad: BadNumber) throws {
        let problems = try #require(Self.problems(bad.field, bad.value), "\(bad.field.name) accepted \(bad.value)")
        let located = problems.filter { $0.location.line == bad.field.line && $0.location.column == bad.field.column }
        #expect(located.count == 1, "expected one problem at \(bad.field.line):\(bad.field.column), got \(problems)")
        #expect(located.first?.message.contains(bad.field.expected) == true, "\(located)")
        #expect(located.first?.message.contains(bad.value.hasPrefix(".") ? bad.value : String(bad.value.prefix(5))) == true,
                "the message should quote what was found: \(located)")
    }

    @Test(arguments: NumericField.durations + NumericField.integers)
    func ordinaryValueLoads(_ field: NumericField) {
        let value = NumericField.durations.contains { $0.name == field.name } ? NumericField.goodDuration : NumericField.goodInteger
        #expect(Self.problems(field, value) == nil)
    }

    @Test func durationsReachExactlyAYear() {
        #expect(DurationText.parse("366d") == Double(366 * 86_400))
        #expect(DurationText.parse("365d23h59m60s") == Double(366 * 86_400))
        #expect(DurationText.parse("366d1s") == nil)
        #expect(DurationText.parse("1h30m") == 5400)
        #expect(DurationText.parse("250ms") == 0.25)
        #expect(DurationText.parse("90") == 90)
        #expect(DurationText.parse("0") == 0)
        for text in ["inf", "+inf", "infinity", "nan", "1e3", "0x10", "-5s", "+5", "1e400s", "", " ", "5m-", "1..5s"] {
            #expect(DurationText.parse(text) == nil, "\(text)")
        }
    }

    @Test func outOfRangeDurationsAreToldApartFromNonDurations() {
        #expect(DurationText.read("400d") == .outOfRange)
        #expect(DurationText.read("99999999999999999999d") == .outOfRange)
        #expect(DurationText.read(String(repeating: "9", count: 400) + "s") == .outOfRange)
        #expect(DurationText.read("soon") == .notADuration)
        #expect(DurationText.seconds(fromNumber: .infinity) == nil)
        #expect(DurationText.seconds(fromNumber: .nan) == nil)
        #expect(DurationText.seconds(fromNumber: -0.5) == nil)
        #expect(DurationText.seconds(fromNumber: 30) == 30)
    }

    @Test func formattingAnyDoubleNeverTraps() {
        #expect(DurationText.format(90) == "1m30s")
        #expect(DurationText.format(0.25) == "250ms")
        #expect(DurationText.format(-90) == "-1m30s")
        #expect(DurationText.format(.infinity) == "forever")
        #expect(DurationText.format(.nan) == "unknown")
        #expect(DurationText.format(1e300).hasPrefix("106751991167300d"))
        #expect(DurationText.format(.greatestFiniteMagnitude).hasPrefix("106751991167300d"))
    }

    @Test func conversionsOfDoublesSaturateInsteadOfTrapping() {
        #expect(Int(saturating: .infinity) == Int.max)
        #expect(Int(saturating: -.infinity) == Int.min)
        #expect(Int(saturating: .nan) == 0)
        #expect(Int(saturating: 1e300) == Int.max)
        #expect(Int(saturating: 41.9) == 41)
        #expect(Int64(saturating: -1e30) == Int64.min)
        #expect(UInt64(saturating: -3) == 0)
        #expect(Duration.seconds(saturating: .infinity) == .seconds(366 * 86_400))
        #expect(Duration.seconds(saturating: -1) == .zero)
        #expect(Duration.seconds(saturating: .nan) == .zero)
        #expect(Duration.seconds(saturating: 1.5) == .milliseconds(1500))
    }
}
