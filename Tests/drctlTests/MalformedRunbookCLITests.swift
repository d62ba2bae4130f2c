import Foundation
import Testing

/// Every malformed runbook the loader knows (the DRCore suite's catalogue), through the real CLI:
/// exit 3, a `file:line:col:` message on stderr, never a crash or a stack trace.
@Suite("Malformed runbooks through the CLI")
struct MalformedRunbookCLITests {
    static let invalidRunbook: Int32 = 3

    @Test func catalogueHasAtLeastThirtyDistinctCases() {
        #expect(Set(MalformedRunbook.all.map(\.name)).count >= 30)
        #expect(Set(MalformedRunbook.all.map(\.bytes)).count == MalformedRunbook.all.count)
    }

    @Test(arguments: MalformedRunbook.all)
    func validateAndRunReportALocatedErrorWithExitThree(_ runbook: MalformedRunbook) throws {
        let workspace = try RunbookWorkspace()
        let path = workspace.directory.appendingPathComponent("broken.yaml").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data(runbook.bytes)))
        let location = "\(path):\(runbook.line):\(runbook.column):"

        for arguments in [["validate", path], ["run", path, "--yes"], ["plan", path]] {
            let result = try workspace.drctl(arguments)
            #expect(result.status == Self.invalidRunbook, "drctl \(arguments[0]): \(result.stderr)")
            #expect(result.stderr.contains(location), "drctl \(arguments[0]) should name \(location): \(result.stderr)")
            // The DRCore catalogue's test-only provider actions are not in the CLI's registry, so its
            // "did you mean" differs there; the location and the exit code must not.
            if !runbook.message.contains("'aws.") {
                #expect(result.stderr.contains(runbook.message), "drctl \(arguments[0]): \(result.stderr)")
            }
            for crash in ["Fatal error", "Stack dump", "stack trace", "Segmentation", "Illegal instruction"] {
                #expect(!result.stderr.contains(crash), "drctl \(arguments[0]) crashed: \(result.stderr)")
            }
        }
        // Nothing ran, so nothing was journaled.
        #expect(workspace.onlyRunId() == nil)
    }

    @Test func aValidRunbookValidatesAndRuns() throws {
        let workspace = try RunbookWorkspace()
        let path = try workspace.write("ok.yaml", "name: fine\nsteps:\n" + workspace.recordingStep("only"))
        let validated = try workspace.drctl(["validate", path])
        #expect(validated.status == 0, "\(validated.stderr)")
        #expect(validated.stdout.contains("ok (fine, 1 steps)"))
        let ran = try workspace.drctl(["run", path, "--yes"])
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(workspace.effects() == ["only"])
    }
}
