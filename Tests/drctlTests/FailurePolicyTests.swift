import Foundation
import Testing

/// `on_failure` through the CLI, and `drctl abort` of a paused run.
@Suite("Failure policies through the CLI")
struct FailurePolicyTests {
    /// An `exec` step that appends `line` and undoes itself by appending `undo-<line>`.
    static func compensatedStep(_ workspace: RunbookWorkspace, _ id: String, needs: [String] = [], before: String = "") -> String {
        let needsText = needs.isEmpty ? "" : ", needs: [\(needs.joined(separator: ", "))]"
        let command = (before.isEmpty ? "" : before + "; ") + "echo \(id) >> \(workspace.effectsPath)"
        return "  - { id: \(id), action: exec\(needsText), with: { command: \"\(command)\" }, "
            + "compensate: { action: exec, with: { command: \"echo undo-\(id) >> \(workspace.effectsPath)\" } } }\n"
    }

    static func failingStep(_ id: String, needs: [String] = [], policy: String? = nil) -> String {
        let needsText = needs.isEmpty ? "" : ", needs: [\(needs.joined(separator: ", "))]"
        return "  - { id: \(id), action: exec\(needsText)\(policy.map { ", on_failure: \($0)" } ?? ""), with: { command: \"exit 4\" } }\n"
    }

    @Test func continueLetsIndependentStepsRunAndTheRunEndsDegraded() throws {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("continue.yaml", "name: continue-demo\nsteps:\n"
            + Self.failingStep("flaky", policy: "continue")
            + workspace.recordingStep("independent")
            + workspace.recordingStep("after-flaky", needs: ["flaky"])
            + workspace.recordingStep("last", needs: ["independent"]))
        let result = try workspace.drctl(["run", file, "--yes"])
        // Not a success: `flaky` failed and `after-flaky` did not run. Exit 13 and both named.
        #expect(result.status == 13, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("DEGRADED") && result.stderr.contains("flaky failed") && result.stderr.contains("after-flaky did not run"),
                "\(result.stderr)")
        #expect(workspace.effects().sorted() == ["independent", "last"])
        let runId = try #require(workspace.onlyRunId())
        let steps = Dictionary(uniqueKeysWithValues: try workspace.show(runId).steps.map { ($0.id, $0) })
        #expect(steps["flaky"]?.status == "failed")
        #expect(steps["flaky"]?.error?.contains("exited 4") == true)
        #expect(steps["after-flaky"]?.status == "skipped")
        #expect(steps["independent"]?.status == "succeeded")
        #expect(steps["last"]?.status == "succeeded")
    }

    /// The outside tester's reproduction: a failed step is fixed, `resume` re-runs it, and what
    /// needs it must run too — never "succeeded" without the cutover.
    @Test func resumeAfterAFixRunsTheFailedStepAndItsDependents() throws {
        for policy in ["abort", "continue"] {
            let workspace = try RunbookWorkspace()
            let marker = workspace.directory.appendingPathComponent("fixed").path
            let file = try workspace.write("readmit-\(policy).yaml", "name: readmit-\(policy)\nsteps:\n"
                + "  - { id: flaky, action: exec, on_failure: \(policy), with: { command: \"test -e \(marker) && echo flaky >> \(workspace.effectsPath)\" } }\n"
                + workspace.recordingStep("cutover", needs: ["flaky"])
                + workspace.recordingStep("report", needs: ["cutover"]))
            let first = try workspace.drctl(["run", file, "--yes"])
            #expect(first.status == (policy == "abort" ? 1 : 13), "\(first.stdout)\n\(first.stderr)")
            let runId = try #require(workspace.onlyRunId())
            FileManager.default.createFile(atPath: marker, contents: Data())
            let resumed = try workspace.drctl(["resume", runId, "--yes"])
            #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
            #expect(workspace.effects() == ["flaky", "cutover", "report"])
            #expect(try workspace.show(runId).steps.allSatisfy { $0.status == "succeeded" })
        }
    }

    @Test func askWithoutATerminalStopsAndToleratingOnResumeLetsTheRunGoOn() throws {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("ask.yaml", "name: ask-demo\nsteps:\n"
            + Self.failingStep("fence", policy: "ask")
            + workspace.recordingStep("promote", needs: ["fence"]))
        let first = try workspace.drctl(["run", file, "--yes"])   // --yes never answers `ask`
        #expect(first.status == 1, "\(first.stdout)\n\(first.stderr)")
        #expect(workspace.effects().isEmpty)
        let runId = try #require(workspace.onlyRunId())
        let wrong = try workspace.drctl(["resume", runId, "--yes", "--tolerate", "promote"])
        #expect(wrong.status == 2, "\(wrong.stderr)")
        let tolerated = try workspace.drctl(["resume", runId, "--yes", "--tolerate", "fence"])
        #expect(tolerated.status == 13, "\(tolerated.stdout)\n\(tolerated.stderr)")
        #expect(tolerated.stderr.contains("fence failed (tolerated by"), "\(tolerated.stderr)")
        #expect(workspace.effects() == ["promote"])
    }

    @Test func abortStopsTheRunAndDependentsNeverRun() throws {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("abort.yaml", "name: abort-demo\nsteps:\n"
            + workspace.recordingStep("first")
            + Self.failingStep("broken", needs: ["first"])
            + workspace.recordingStep("dependent", needs: ["broken"])
            + workspace.recordingStep("later", needs: ["dependent"]))
        let result = try workspace.drctl(["run", file, "--yes"])
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(workspace.effects() == ["first"])
        let timeline = try workspace.show(try #require(workspace.onlyRunId()))
        #expect(timeline.status == "failed")
        let steps = Dictionary(uniqueKeysWithValues: timeline.steps.map { ($0.id, $0) })
        #expect(steps["broken"]?.status == "failed")
        #expect(steps["dependent"]?.status != "succeeded" && steps["dependent"]?.attempts == 0)
        #expect(steps["later"]?.attempts == 0)
    }

    /// `fast` completes before `slow` although declared after it: compensations follow completion.
    @Test func rollbackCompensatesCompletedStepsInReverseCompletionOrder() throws {
        let workspace = try RunbookWorkspace()
        let waitForFast = "until grep -qx fast \(workspace.effectsPath); do sleep 0.05; done; sleep 0.5"
        let file = try workspace.write("rollback.yaml", "name: rollback-demo\nsteps:\n"
            + Self.compensatedStep(workspace, "slow", before: waitForFast)
            + Self.compensatedStep(workspace, "fast")
            + Self.compensatedStep(workspace, "join", needs: ["slow", "fast"])
            + Self.failingStep("promote", needs: ["join"], policy: "rollback"))
        let result = try workspace.drctl(["run", file, "--yes"])
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(workspace.effects() == ["fast", "slow", "join", "undo-join", "undo-slow", "undo-fast"])
        let timeline = try workspace.show(try #require(workspace.onlyRunId()))
        #expect(timeline.status == "failed")
        #expect(timeline.steps.filter { $0.status == "compensated" }.map(\.id).sorted() == ["fast", "join", "slow"])
    }

    @Test func abortOfAPausedRunCompensatesAndMarksItAborted() throws {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("paused.yaml", "name: paused-demo\nsteps:\n"
            + Self.compensatedStep(workspace, "snapshot")
            + Self.compensatedStep(workspace, "fence", needs: ["snapshot"])
            + "  - { id: gate, action: approve, needs: [fence], with: { summary: promote the replica } }\n"
            + Self.compensatedStep(workspace, "promote", needs: ["gate"]))
        let paused = try workspace.drctl(["run", file])
        #expect(paused.status == 5, "\(paused.stdout)\n\(paused.stderr)")
        let runId = try #require(workspace.onlyRunId())

        let aborted = try workspace.drctl(["abort", runId, "--yes"])
        #expect(aborted.status == 0, "\(aborted.stdout)\n\(aborted.stderr)")
        #expect(workspace.effects() == ["snapshot", "fence", "undo-fence", "undo-snapshot"])
        let timeline = try workspace.show(runId)
        #expect(timeline.status == "aborted")
        let steps = Dictionary(uniqueKeysWithValues: timeline.steps.map { ($0.id, $0) })
        #expect(steps["snapshot"]?.status == "compensated")
        #expect(steps["fence"]?.status == "compensated")
        #expect(steps["promote"]?.attempts == 0)
        // An aborted run is over.
        #expect(try workspace.drctl(["resume", runId, "--yes"]).status == 2)
    }
}
