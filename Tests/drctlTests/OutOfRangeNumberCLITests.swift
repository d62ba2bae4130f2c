import Foundation
import Testing

/// Numbers that once crashed drctl ("Double value cannot be converted to Int"), in every duration
/// and integer field of runbooks and plans and in the flags that take them: a located error with
/// exit 3 for files, a usage error (exit 2) for flags; never a trap.
@Suite("Out-of-range numbers through the CLI")
struct OutOfRangeNumberCLITests {
    static let invalidFile: Int32 = 3
    static let usage: Int32 = 2
    static let crashes = ["Fatal error", "Stack dump", "stack trace", "Segmentation", "Illegal instruction", "Backtrace"]

    static func expectNoCrash(_ result: DrctlProcess.Result, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for crash in crashes {
            #expect(!result.stderr.contains(crash), "\(what) crashed: \(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: BadNumber.all)
    func everyCommandReadingTheFileExitsThreeAtTheValue(_ bad: BadNumber) throws {
        let workspace = try RunbookWorkspace()
        let path = try workspace.write("numbers.yaml", bad.field.text(with: bad.value))
        let location = "\(path):\(bad.field.line):\(bad.field.column):"
        let commands: [[String]] = switch bad.field.kind {
        case .runbook: [["validate", path], ["plan", path], ["run", path, "--yes"]]
        case .plan: [["validate", path], ["failover", "--to", "us-west-2", "--dry-run", "--plan", path],
                     ["drill", "run", "--print-runbook", "--plan", path]]
        }
        for arguments in commands {
            let result = try workspace.drctl(arguments)
            let what = "drctl \(arguments.prefix(2).joined(separator: " "))"
            Self.expectNoCrash(result, what)
            #expect(result.status == Self.invalidFile, "\(what): \(result.stderr)")
            #expect(result.stderr.contains(location), "\(what) should name \(location): \(result.stderr)")
            #expect(result.stderr.contains(bad.field.expected), "\(what): \(result.stderr)")
        }
        #expect(workspace.onlyRunId() == nil)
    }

    @Test func validateChecksPlansAsWellAsRunbooks() throws {
        let workspace = try RunbookWorkspace()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let plan = root.appendingPathComponent("Runbooks/drplan.yaml").path
        let runbook = try workspace.write("ok.yaml", "name: fine\nsteps:\n  - { id: a, action: wait, with: { duration: 1s } }\n")
        let result = try workspace.drctl(["validate", plan, runbook])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\(plan): ok (DR plan reference"), "\(result.stdout)")
        #expect(result.stdout.contains("\(runbook): ok (fine, 1 steps)"), "\(result.stdout)")
    }

    @Test(arguments: [
        ["failover", "--to", "us-west-2", "--dry-run", "--accept-data-loss", "inf"],
        ["failover", "--to", "us-west-2", "--dry-run", "--accept-data-loss", "1e300"],
        ["failover", "--to", "us-west-2", "--dry-run", "--accept-data-loss", "99999999999999999999d"],
        ["run", "RUNBOOK", "--yes", "--lease-ttl", "inf"],
        ["run", "RUNBOOK", "--yes", "--lease-ttl", "1e300"],
        ["run", "RUNBOOK", "--yes", "--concurrency", "9223372036854775807"],
        ["run", "RUNBOOK", "--yes", "--input", "grace=1e400"],
        ["run", "RUNBOOK", "--yes", "--input", "grace=9223372036854775807"],
        ["run", "RUNBOOK", "--yes", "--input", "ratio=inf"],
        ["run", "RUNBOOK", "--yes", "--input", "ratio=1e400"],
        ["heartbeat", "--url-env", "X", "--interval", "1e400ms"],
        ["heartbeat", "--url-env", "X", "--interval", "inf"],
        ["heartbeat", "--url-env", "X", "--duration", "1e300"],
    ])
    func flagsTakingNumbersRefuseThemAsUsageErrors(_ arguments: [String]) throws {
        let workspace = try RunbookWorkspace()
        let runbook = try workspace.write("rb.yaml", """
            name: flags
            inputs:
              grace: { type: duration, default: 1s }
              ratio: { type: number, default: 0.5 }
            steps:
              - { id: a, action: wait, with: { duration: "${{ inputs.grace }}" } }

            """)
        let result = try workspace.drctl(arguments.map { $0 == "RUNBOOK" ? runbook : $0 })
        Self.expectNoCrash(result, arguments.joined(separator: " "))
        #expect(result.status == Self.usage, "\(arguments): \(result.stderr)")
        #expect(workspace.onlyRunId() == nil)
    }

    @Test func aPlanThatProtectsNothingIsALocatedPlanError() throws {
        let workspace = try RunbookWorkspace()
        let path = try workspace.write("drplan.yaml", "name: empty\nregions: { primary: us-east-1, dr: us-west-2 }\naws:\n  buckets: []\n")
        let result = try DrctlProcess.run(["failover", "--to", "us-west-2", "--print-runbook", "--plan", path],
                                          environment: ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"],
                                          home: workspace.directory)
        #expect(result.status == Self.invalidFile, "\(result.stderr)")
        #expect(result.stderr.contains("\(path):3:1: found a plan that protects nothing that can move from us-east-1 to us-west-2"), "\(result.stderr)")
    }
}
