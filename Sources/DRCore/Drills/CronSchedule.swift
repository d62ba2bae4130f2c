import Foundation

/// A five-field cron expression (minute hour day-of-month month day-of-week), evaluated in UTC.
///
/// Syntax as in Vixie cron (crontab(5)): `*`, values, ranges `a-b`, steps `*/n`, `a-b/n` and
/// `a/n` (from `a` to the field's end), lists `a,b,c`, month names `JAN`–`DEC` and weekday
/// names `SUN`–`SAT` (any case), weekday `7` as Sunday, and the macros `@yearly` (`@annually`),
/// `@monthly`, `@weekly`, `@daily` (`@midnight`), `@hourly`.
///
/// The day rule is Vixie's: when both day fields are restricted (neither starts with `*`), a day
/// matches when *either* matches; otherwise both must match (so `0 0 1 * */2` is the first of the
/// month when that falls on an even weekday, exactly as cron runs it).
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    public let expression: String
    public let minutes: Set<Int>
    public let hours: Set<Int>
    public let daysOfMonth: Set<Int>
    public let months: Set<Int>
    /// 0 = Sunday … 6 = Saturday.
    public let daysOfWeek: Set<Int>
    /// The field does not start with `*` (Vixie's DOM_STAR / DOW_STAR flags, negated).
    public let dayOfMonthRestricted: Bool
    public let dayOfWeekRestricted: Bool

    public var description: String { expression }

    enum Field: Int, CaseIterable, Sendable {
        case minute, hour, dayOfMonth, month, dayOfWeek

        var range: ClosedRange<Int> {
            switch self {
            case .minute: return 0...59
            case .hour: return 0...23
            case .dayOfMonth: return 1...31
            case .month: return 1...12
            case .dayOfWeek: return 0...7
            }
        }

        var name: String {
            switch self {
            case .minute: return "minute"
            case .hour: return "hour"
            case .dayOfMonth: return "day-of-month"
            case .month: return "month"
            case .dayOfWeek: return "day-of-week"
            }
        }

        var names: [String] {
            switch self {
            case .month: return ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
            case .dayOfWeek: return ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
            default: return []
            }
        }

        /// The number a name stands for (JAN = 1, SUN = 0).
        func value(ofName name: String) -> Int? {
            guard let index = names.firstIndex(of: name.uppercased()) else { return nil }
            return self == .month ? index + 1 : index
        }
    }

    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    public init(parsing expression: String) throws {
        self.expression = expression
        let trimmed = expression.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("@") {
            guard let expanded = Self.macros[trimmed.lowercased()] else {
                throw CronParseError(expression: expression, column: Self.column(of: trimmed, in: expression), field: nil,
                                     message: "found '\(trimmed)', expected one of \(Self.macros.keys.sorted().joined(separator: ", ")) or five fields")
            }
            let parsed = try CronSchedule(parsing: expanded)
            (minutes, hours, daysOfMonth, months, daysOfWeek) = (parsed.minutes, parsed.hours, parsed.daysOfMonth, parsed.months, parsed.daysOfWeek)
            (dayOfMonthRestricted, dayOfWeekRestricted) = (parsed.dayOfMonthRestricted, parsed.dayOfWeekRestricted)
            return
        }
        let tokens = Self.tokens(expression)
        guard tokens.count == 5 else {
            let column = tokens.count > 5 ? tokens[5].column : expression.count + 1
            throw CronParseError(expression: expression, column: column, field: nil,
                                 message: "found \(tokens.count) field\(tokens.count == 1 ? "" : "s"), expected five (minute hour day-of-month month day-of-week)")
        }
        var sets: [Set<Int>] = []
        for field in Field.allCases {
            let token = tokens[field.rawValue]
            sets.append(try Self.parse(token.text, field: field, column: token.column, expression: expression))
        }
        minutes = sets[0]
        hours = sets[1]
        daysOfMonth = sets[2]
        months = sets[3]
        daysOfWeek = Set(sets[4].map { $0 % 7 })
        dayOfMonthRestricted = !tokens[2].text.hasPrefix("*")
        dayOfWeekRestricted = !tokens[4].text.hasPrefix("*")

        // A schedule that can never fire is a mistake worth a located error (cron would accept it
        // and stay silent forever): e.g. `0 0 30 2 *`.
        if !(dayOfMonthRestricted && dayOfWeekRestricted) {
            let possible = months.contains { month in daysOfMonth.contains { $0 <= CivilTime.maximumDays(inMonth: month) } }
            if !possible {
                throw CronParseError(expression: expression, column: tokens[2].column, field: Field.dayOfMonth.name,
                                     message: "found '\(tokens[2].text)' with month '\(tokens[3].text)', expected a day that exists in one of those months (the schedule would never run)")
            }
        }
    }

    // MARK: Occurrences

    /// Whether the schedule fires in the minute that contains `date`.
    public func matches(_ date: Date) -> Bool {
        let time = CivilTime(minutesSinceEpoch: CivilTime.floorMinutes(date))
        return months.contains(time.month) && dayMatches(time) && hours.contains(time.hour) && minutes.contains(time.minute)
    }

    /// The first occurrence strictly after `date`; nil only if none exists within `searchYears`.
    public func next(after date: Date, searchYears: Int = 400) -> Date? {
        var time = CivilTime(minutesSinceEpoch: CivilTime.floorMinutes(date) + 1)
        let limit = time.year + searchYears
        while time.year <= limit {
            if !months.contains(time.month) {
                time.startOfNextMonth()
            } else if !dayMatches(time) {
                time.startOfNextDay()
            } else if !hours.contains(time.hour) {
                time.startOfNextHour()
            } else if !minutes.contains(time.minute) {
                time.addMinute()
            } else {
                return time.date
            }
        }
        return nil
    }

    /// The last occurrence strictly before `date` (with `inclusive`, at or before: an occurrence
    /// at the very minute of `date` counts); nil only if none exists within `searchYears`.
    public func previous(before date: Date, inclusive: Bool = false, searchYears: Int = 400) -> Date? {
        let floor = CivilTime.floorMinutes(date)
        let exact = Double(floor) * 60 == date.timeIntervalSince1970
        var time = CivilTime(minutesSinceEpoch: inclusive || !exact ? floor : floor - 1)
        let limit = time.year - searchYears
        while time.year >= limit {
            if !months.contains(time.month) {
                time.endOfPreviousMonth()
            } else if !dayMatches(time) {
                time.endOfPreviousDay()
            } else if !hours.contains(time.hour) {
                time.endOfPreviousHour()
            } else if !minutes.contains(time.minute) {
                time.subtractMinute()
            } else {
                return time.date
            }
        }
        return nil
    }

    func dayMatches(_ time: CivilTime) -> Bool {
        let dayOfMonth = daysOfMonth.contains(time.day)
        let dayOfWeek = daysOfWeek.contains(time.weekday)
        return dayOfMonthRestricted && dayOfWeekRestricted ? (dayOfMonth || dayOfWeek) : (dayOfMonth && dayOfWeek)
    }

    // MARK: Parsing

    struct Token {
        let text: String
        /// 1-based column of the token's first character.
        let column: Int
    }

    static func tokens(_ expression: String) -> [Token] {
        var tokens: [Token] = []
        var current = "", start = 0
        for (offset, character) in expression.enumerated() {
            if character == " " || character == "\t" {
                if !current.isEmpty { tokens.append(Token(text: current, column: start + 1)); current = "" }
            } else {
                if current.isEmpty { start = offset }
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(Token(text: current, column: start + 1)) }
        return tokens
    }

    static func column(of text: String, in expression: String) -> Int {
        guard let range = expression.range(of: text) else { return 1 }
        return expression.distance(from: expression.startIndex, to: range.lowerBound) + 1
    }

    static func parse(_ text: String, field: Field, column: Int, expression: String) throws -> Set<Int> {
        var values: Set<Int> = []
        var offset = 0
        for element in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let elementColumn = column + offset
            offset += element.count + 1
            func fail(_ message: String) -> CronParseError {
                CronParseError(expression: expression, column: elementColumn, field: field.name, message: message)
            }
            guard !element.isEmpty else { throw fail("found an empty list element in '\(text)', expected a value, range or step") }
            let parts = element.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2 else { throw fail("found '\(element)', expected at most one '/step'") }
            var step = 1
            if parts.count == 2 {
                guard let number = Int(parts[1]), number >= 1, parts[1].allSatisfy(\.isASCII) else {
                    throw fail("found step '\(parts[1])' in '\(element)', expected a whole number of at least 1")
                }
                step = number
            }
            let base = parts[0]
            let bounds: ClosedRange<Int>
            if base == "*" {
                bounds = field == .dayOfWeek ? 0...6 : field.range
            } else if let dash = base.firstIndex(of: "-") {
                let low = try value(String(base[..<dash]), field: field, element: element, fail: fail)
                let high = try value(String(base[base.index(after: dash)...]), field: field, element: element, fail: fail)
                guard low <= high else {
                    throw fail("found the range '\(base)', expected a start that is not after its end (ranges do not wrap)")
                }
                bounds = low...high
            } else {
                let single = try value(base, field: field, element: element, fail: fail)
                // `a/n` runs from a to the end of the field (as cronie and most crons read it).
                bounds = parts.count == 2 ? single...(field == .dayOfWeek ? 6 : field.range.upperBound) : single...single
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }

    static func value(_ text: String, field: Field, element: String, fail: (String) -> CronParseError) throws -> Int {
        let expected = field.names.isEmpty
            ? "\(field.range.lowerBound)-\(field.range.upperBound)"
            : "\(field.range.lowerBound)-\(field.range.upperBound) or \(field.names.first!)-\(field.names.last!)"
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(text) {
            guard field.range.contains(number) else { throw fail("found \(field.name) '\(text)', expected \(expected)") }
            return number
        }
        if let named = field.value(ofName: text) { return named }
        throw fail("found '\(text.isEmpty ? element : text)' in the \(field.name) field, expected \(expected)")
    }
}

/// Where a cron expression is wrong: the 1-based column in the expression, the field, and what
/// was expected there.
public struct CronParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let expression: String
    public let column: Int
    public let field: String?
    public let message: String

    public var description: String {
        "cron '\(expression)', column \(column)\(field.map { " (\($0))" } ?? ""): \(message)"
    }
}

/// A UTC calendar minute, with the proleptic Gregorian arithmetic cron needs. Pure integer
/// arithmetic (H. Hinnant's days-from-civil), so no Calendar, time zone or locale is involved.
struct CivilTime: Equatable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int) {
        (self.year, self.month, self.day, self.hour, self.minute) = (year, month, day, hour, minute)
    }

    init(minutesSinceEpoch total: Int) {
        let days = Self.floorDivide(total, 1440)
        let inDay = total - days * 1440
        (year, month, day) = Self.civil(fromDays: days)
        hour = inDay / 60
        minute = inDay % 60
    }

    static func floorMinutes(_ date: Date) -> Int { Int((date.timeIntervalSince1970 / 60).rounded(.down)) }

    static func floorDivide(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

    var date: Date { Date(timeIntervalSince1970: Double((Self.days(year: year, month: month, day: day) * 1440 + hour * 60 + minute) * 60)) }

    /// 0 = Sunday. 1970-01-01 (day 0) was a Thursday.
    var weekday: Int { ((Self.days(year: year, month: month, day: day) % 7) + 11) % 7 }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func maximumDays(inMonth month: Int) -> Int { month == 2 ? 29 : daysIn(year: 2001, month: month) }

    /// Days since 1970-01-01.
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    mutating func startOfNextMonth() {
        month += 1
        if month > 12 { month = 1; year += 1 }
        (day, hour, minute) = (1, 0, 0)
    }

    mutating func startOfNextDay() {
        day += 1
        if day > Self.daysIn(year: year, month: month) { startOfNextMonth() } else { (hour, minute) = (0, 0) }
    }

    mutating func startOfNextHour() {
        hour += 1
        if hour > 23 { startOfNextDay() } else { minute = 0 }
    }

    mutating func addMinute() {
        minute += 1
        if minute > 59 { startOfNextHour() }
    }

    mutating func endOfPreviousMonth() {
        month -= 1
        if month < 1 { month = 12; year -= 1 }
        (day, hour, minute) = (Self.daysIn(year: year, month: month), 23, 59)
    }

    mutating func endOfPreviousDay() {
        day -= 1
        if day < 1 { endOfPreviousMonth() } else { (hour, minute) = (23, 59) }
    }

    mutating func endOfPreviousHour() {
        hour -= 1
        if hour < 0 { endOfPreviousDay() } else { minute = 59 }
    }

    mutating func subtractMinute() {
        minute -= 1
        if minute < 0 { endOfPreviousHour() }
    }
}
