import DRCore
import Foundation
import Testing

@Suite("CronSchedule reads five-field cron like Vixie cron and finds occurrences in UTC")
struct CronScheduleTests {
    static func at(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)!
    }

    static func iso(_ date: Date?) -> String? { date.map { ISO8601DateFormatter().string(from: $0) } }

    func next(_ expression: String, after: String) throws -> String? {
        Self.iso(try CronSchedule(parsing: expression).next(after: Self.at(after)))
    }

    func previous(_ expression: String, before: String, inclusive: Bool = false) throws -> String? {
        Self.iso(try CronSchedule(parsing: expression).previous(before: Self.at(before), inclusive: inclusive))
    }

    // MARK: Syntax

    @Test("ranges, steps, lists and names expand to the right sets")
    func fieldsExpand() throws {
        let schedule = try CronSchedule(parsing: "*/15 9-17/4 1,15 jan-mar,DEC mon-fri")
        #expect(schedule.minutes == [0, 15, 30, 45])
        #expect(schedule.hours == [9, 13, 17])
        #expect(schedule.daysOfMonth == [1, 15])
        #expect(schedule.months == [1, 2, 3, 12])
        #expect(schedule.daysOfWeek == [1, 2, 3, 4, 5])
        #expect(try CronSchedule(parsing: "5/20 * * * *").minutes == [5, 25, 45])
        #expect(try CronSchedule(parsing: "0 0 * * 5-7").daysOfWeek == [0, 5, 6])
        #expect(try CronSchedule(parsing: "0 0 * * 7").daysOfWeek == [0])
        #expect(try CronSchedule(parsing: "0 0 * * */2").daysOfWeek == [0, 2, 4, 6])
        #expect(try CronSchedule(parsing: "@monthly").daysOfMonth == [1])
    }

    @Test("a parse error names the column, the field and what was expected", arguments: [
        ("0 6 1 1,4,7,10", 15, nil as String?, "expected five"),
        ("0 6 1 1 * *", 11, nil, "expected five"),
        ("0 25 * * *", 3, "hour", "expected 0-23"),
        ("60 * * * *", 1, "minute", "expected 0-59"),
        ("0 0 1 1,13 *", 9, "month", "expected 1-12 or JAN-DEC"),
        ("0 0 * * MON-XYZ", 9, "day-of-week", "expected 0-7 or SUN-SAT"),
        ("0 0 5-1 * *", 5, "day-of-month", "ranges do not wrap"),
        ("*/0 * * * *", 1, "minute", "at least 1"),
        ("0 0 1,,2 * *", 7, "day-of-month", "empty list element"),
        ("0 0 30 2 *", 5, "day-of-month", "never run"),
        ("@fortnightly", 1, nil, "expected one of"),
    ])
    func parseErrorsAreLocated(expression: String, column: Int, field: String?, message: String) {
        do {
            _ = try CronSchedule(parsing: expression)
            Issue.record("'\(expression)' parsed")
        } catch let error as CronParseError {
            #expect(error.column == column, "\(error)")
            #expect(error.field == field, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    // MARK: Occurrences

    @Test("the quarterly default fires at 06:00 UTC on the first day of each quarter, across the year boundary")
    func quarterly() throws {
        let quarterly = "0 6 1 1,4,7,10 *"
        #expect(try next(quarterly, after: "2026-03-31T23:59:00Z") == "2026-04-01T06:00:00Z")
        #expect(try next(quarterly, after: "2026-04-01T06:00:00Z") == "2026-07-01T06:00:00Z")
        #expect(try next(quarterly, after: "2026-10-01T06:00:01Z") == "2027-01-01T06:00:00Z")
        #expect(try previous(quarterly, before: "2027-01-01T05:59:59Z") == "2026-10-01T06:00:00Z")
        #expect(try previous(quarterly, before: "2027-01-01T06:00:00Z") == "2026-10-01T06:00:00Z")
        #expect(try previous(quarterly, before: "2027-01-01T06:00:00Z", inclusive: true) == "2027-01-01T06:00:00Z")
        #expect(try previous(quarterly, before: "2026-02-15T00:00:00Z") == "2026-01-01T06:00:00Z")
    }

    @Test("Feb 29 schedules wait for leap years (2100 is not one, 2000 was)")
    func leapDay() throws {
        #expect(try next("30 12 29 2 *", after: "2025-03-01T00:00:00Z") == "2028-02-29T12:30:00Z")
        #expect(try next("30 12 29 2 *", after: "2096-02-29T12:30:00Z") == "2104-02-29T12:30:00Z")
        #expect(try previous("30 12 29 2 *", before: "2003-01-01T00:00:00Z") == "2000-02-29T12:30:00Z")
        #expect(try next("0 0 28-31 2 *", after: "2027-02-28T00:00:00Z") == "2028-02-28T00:00:00Z")
        #expect(try next("59 23 * 2 *", after: "2024-02-28T23:59:00Z") == "2024-02-29T23:59:00Z")
        #expect(try next("59 23 * 2 *", after: "2023-02-28T23:59:00Z") == "2024-02-01T23:59:00Z")
    }

    @Test("month ends: the 31st skips short months, previous crosses back into them")
    func monthEnds() throws {
        #expect(try next("0 0 31 * *", after: "2026-01-31T00:00:00Z") == "2026-03-31T00:00:00Z")
        #expect(try previous("0 0 31 * *", before: "2026-03-01T00:00:00Z") == "2026-01-31T00:00:00Z")
        #expect(try next("0 0 1 * *", after: "2026-12-31T23:59:59Z") == "2027-01-01T00:00:00Z")
        #expect(try previous("*/10 * * * *", before: "2027-01-01T00:00:00Z") == "2026-12-31T23:50:00Z")
    }

    @Test("both day fields restricted: either matches (Vixie); one starting with * : both must")
    func vixieDayRule() throws {
        // 13th of the month OR any Friday.
        #expect(try next("0 0 13 * FRI", after: "2026-03-01T00:00:00Z") == "2026-03-06T00:00:00Z")   // a Friday
        #expect(try next("0 0 13 * FRI", after: "2026-03-12T00:00:00Z") == "2026-03-13T00:00:00Z")   // the 13th (also a Friday)
        #expect(try next("0 0 13 * FRI", after: "2026-04-10T00:00:00Z") == "2026-04-13T00:00:00Z")   // the 13th, a Monday
        // */2 in the weekday field starts with '*': the 1st only when it falls on Sun/Tue/Thu/Sat.
        #expect(try next("0 0 1 * */2", after: "2026-01-01T00:00:00Z") == "2026-02-01T00:00:00Z")   // Sunday
        #expect(try next("0 0 1 * */2", after: "2026-03-01T00:00:00Z") == "2026-08-01T00:00:00Z")   // Apr–Jul 1st are Wed, Fri, Mon, Wed
    }

    @Test("weekday names, 7 as Sunday, and ranges of weekdays")
    func weekdays() throws {
        #expect(try next("0 9 * * 7", after: "2026-03-02T00:00:00Z") == "2026-03-08T09:00:00Z")   // Sunday
        #expect(try next("0 9 * * MON-FRI", after: "2026-03-06T09:00:00Z") == "2026-03-09T09:00:00Z")   // Fri → Mon
        #expect(try previous("0 9 * * sat", before: "2026-03-09T00:00:00Z") == "2026-03-07T09:00:00Z")
    }

    @Test("next and previous agree with a minute-by-minute scan using Foundation's calendar")
    func agreesWithBruteForce() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = Self.at("2028-02-25T00:00:00Z")
        for expression in ["*/20 3-5 29 2 *", "7 */6 * * SUN", "0 0 1,29 * 2", "15 23 28-31 2,3 *"] {
            let schedule = try CronSchedule(parsing: expression)
            var expected: [Date] = []
            for minute in 0..<(10 * 1440) {
                let date = start.addingTimeInterval(Double(minute * 60))
                let parts = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: date)
                let dom = schedule.daysOfMonth.contains(parts.day!), dow = schedule.daysOfWeek.contains(parts.weekday! - 1)
                let day = schedule.dayOfMonthRestricted && schedule.dayOfWeekRestricted ? (dom || dow) : (dom && dow)
                if schedule.minutes.contains(parts.minute!) && schedule.hours.contains(parts.hour!) && schedule.months.contains(parts.month!) && day {
                    expected.append(date)
                }
            }
            #expect(!expected.isEmpty, "\(expression)")
            var found: [Date] = []
            var cursor = start.addingTimeInterval(-1)
            while let next = schedule.next(after: cursor), next < start.addingTimeInterval(10 * 86400) {
                found.append(next)
                cursor = next
            }
            #expect(found == expected, "\(expression)")
            var backwards: [Date] = []
            cursor = start.addingTimeInterval(10 * 86400)
            while let previous = schedule.previous(before: cursor), previous >= start {
                backwards.append(previous)
                cursor = previous
            }
            #expect(backwards.reversed() == expected, "\(expression)")
        }
    }
}
