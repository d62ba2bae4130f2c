import Testing

/// Every duration and integer field of runbooks and DR plans, each able to hold any text at a known
/// line and column, and the numbers that once crashed drctl (non-finite, beyond Int, beyond a year).
/// Shared by the loader's tests and the CLI's (`drctlTests/Support` links to this file).
struct NumericField: Sendable {
    enum FileKind: Sendable { case runbook, plan }

    var name: String
    var kind: FileKind
    /// Text before the value; the value starts right after it.
    var prefix: String
    var suffix: String
    /// What the error message must say is expected, e.g. "expected a duration".
    var expected: String

    func text(with value: String) -> String { prefix + value + suffix }

    /// Where the value starts (1-based, in Unicode scalars as libyaml counts).
    var line: Int { prefix.split(separator: "\n", omittingEmptySubsequences: false).count }
    var column: Int { (prefix.split(separator: "\n", omittingEmptySubsequences: false).last?.unicodeScalars.count ?? 0) + 1 }

    static func runbookStep(_ name: String, _ before: String, _ after: String, expected: String = "expected a duration") -> NumericField {
        NumericField(name: name, kind: .runbook, prefix: "name: demo\nsteps:\n  - { id: a, action: wait, " + before,
                     suffix: after + " }\n", expected: expected)
    }

    /// A plan field; fields under `aws:` bring their own database (`tail: ""`), the others get one.
    static func plan(_ name: String, _ before: String, _ after: String, expected: String = "expected a duration",
                     tail: String = planTail) -> NumericField {
        NumericField(name: name, kind: .plan, prefix: planHead + before, suffix: after + "\n" + tail, expected: expected)
    }

    static let planHead = "name: demo\nregions: { primary: us-east-1, dr: us-west-2 }\n"
    static let planTail = """
        aws:
          databases:
            - { name: db, primary: { region: us-east-1, instance: p }, replicas: [ { region: us-west-2, instance: r } ] }

        """

    static let durations: [NumericField] = [
        runbookStep("timeout", "timeout: ", ", with: { duration: 1s }"),
        runbookStep("estimate", "estimate: ", ", with: { duration: 1s }"),
        runbookStep("wait.duration", "with: { duration: ", " }"),
        runbookStep("retry.backoff", "retry: { attempts: 2, backoff: ", " }, with: { duration: 1s }"),
        runbookStep("retry.max_backoff", "retry: { attempts: 2, max_backoff: ", " }, with: { duration: 1s }"),
        NumericField(name: "budgets.rpo", kind: .runbook, prefix: "name: demo\nbudgets: { rpo: ",
                     suffix: ", rto: 4h }\nsteps:\n  - { id: a, action: wait, with: { duration: 1s } }\n", expected: "expected a duration"),
        NumericField(name: "budgets.rto", kind: .runbook, prefix: "name: demo\nbudgets: { rpo: 1h, rto: ",
                     suffix: " }\nsteps:\n  - { id: a, action: wait, with: { duration: 1s } }\n", expected: "expected a duration"),
        NumericField(name: "input default", kind: .runbook, prefix: "name: demo\ninputs:\n  grace: { type: duration, default: ",
                     suffix: " }\nsteps:\n  - { id: a, action: wait, with: { duration: 1s } }\n", expected: "expected a duration"),
        plan("plan budgets.rpo", "budgets: { rpo: ", ", rto: 4h }"),
        plan("plan budgets.rto", "budgets: { rpo: 1h, rto: ", " }"),
        plan("drills.max_runtime", "drills: { max_runtime: ", " }"),
        plan("drill check max_age", "drills:\n  validation: { url_env: COPY_URL }\n  checks:\n    - { name: fresh, action: postgres.check-freshness, with: { table: t, column: c, max_age: ",
             " } }"),
    ]

    static let integers: [NumericField] = [
        runbookStep("retry.attempts", "retry: { attempts: ", " }, with: { duration: 1s }", expected: "expected a whole number from 1 to 20"),
        plan("dns ttl", "aws:\n  dns:\n    - { zone_id: Z1, name: app.example.com., ttl: ", ", values: { us-east-1: [a], us-west-2: [b] } }\n  databases:\n    - { name: db2, primary: { region: us-east-1, instance: p }, replicas: [ { region: us-west-2, instance: r } ] }",
             expected: "expected a whole number from 0 to 604800", tail: ""),
        plan("backup_retention_days", "aws:\n  databases:\n    - { name: db2, primary: { region: us-east-1, instance: p }, replicas: [ { region: us-west-2, instance: r } ], backup_retention_days: ",
             " }", expected: "expected a whole number from 1 to 35", tail: ""),
        plan("standby desired", "aws:\n  standby:\n    us-west-2: { ecs_services: [ { cluster: c, service: s, desired: ", " } ] }\n  databases:\n    - { name: db2, primary: { region: us-east-1, instance: p }, replicas: [ { region: us-west-2, instance: r } ] }",
             expected: "expected a whole number from 0 to 10000", tail: ""),
    ]

    /// Numbers that once parsed and then trapped ("Double value cannot be converted to Int"), or
    /// were accepted although meaningless.
    static let badDurations = ["inf", "infinity", "1e400", "1e300", "99999999999999999999d", "9223372036854775807", "367d", "-1", ".inf", "nan",
                               "0x10"]
    /// Values every field accepts (the file around the value is valid).
    static let goodDuration = "90s", goodInteger = "3"
    static let badIntegers = ["9223372036854775807", "99999999999999999999", "1e300", "inf", "-1", "1.5", "1000000"]
}

/// One bad number in one field.
struct BadNumber: Sendable, CustomTestStringConvertible {
    var field: NumericField
    var value: String

    var testDescription: String { "\(field.name) = \(value)" }

    static let all: [BadNumber] =
        NumericField.durations.flatMap { field in NumericField.badDurations.map { BadNumber(field: field, value: $0) } }
        + NumericField.integers.flatMap { field in NumericField.badIntegers.map { BadNumber(field: field, value: $0) } }
}
