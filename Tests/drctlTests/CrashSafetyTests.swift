import Foundation
import Testing

/// SIGKILLs the real `drctl run` at every step boundary and in the middle of a wait, resumes, and
/// checks that every side effect happened exactly once and the run ends as a clean run does.
@Suite("Crash safety")
struct CrashSafetyTests {
    /// Where the run is killed: after the journal holds `n` step transitions, or halfway through the wait.
    enum CrashPoint: Sendable, CustomTestStringConvertible {
        case afterStepTransitions(Int)
        case midWait

        var testDescription: String {
            switch self {
            case .afterStepTransitions(let count): "after \(count) step transitions"
            case .midWait: "in the middle of the wait"
            }
        }
    }

    static let steps = ["prepare", "left", "right", "settle", "promote", "announce"]
    static let recording = ["prepare", "left", "right", "promote", "announce"]
    /// Each step journals pending → running → succeeded: a clean run has 12 step transitions.
    static let cleanTransitions = 12
    static let crashPoints: [CrashPoint] = (0..<cleanTransitions).map { .afterStepTransitions($0) } + [.midWait]

    /// prepare → (left ∥ right) → settle (wait) → promote → announce. Each exec step appends its
    /// name to the side-effects file, then lingers, so a kill can land while it is in flight.
    static func runbook(_ workspace: RunbookWorkspace) -> String {
        let linger = "sleep 0.3"
        return "name: crash-demo\nsteps:\n"
            + workspace.recordingStep("prepare", then: linger)
            + workspace.recordingStep("left", needs: ["prepare"], then: linger)
            + workspace.recordingStep("right", needs: ["prepare"], then: linger)
            + "  - { id: settle, action: wait, needs: [left, right], with: { duration: 2s } }\n"
            + workspace.recordingStep("promote", needs: ["settle"], then: linger)
            + workspace.recordingStep("announce", needs: ["promote"], then: linger)
    }

    @Test func cleanRunJournalsTwelveStepTransitionsAndEachEffectOnce() throws {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("crash.yaml", Self.runbook(workspace))
        let result = try workspace.drctl(["run", file, "--yes"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(workspace.stepTransitions() == Self.cleanTransitions)
        #expect(workspace.effects().sorted() == Self.recording.sorted())
    }

    @Test(arguments: crashPoints)
    func killedRunResumesToACleanEndWithEachEffectOnce(_ point: CrashPoint) throws {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("crash.yaml", Self.runbook(workspace))
        let child = try workspace.start(["run", file, "--yes"])

        switch point {
        case .afterStepTransitions(let count):
            poll("the run is journaled with \(count) step transitions") {
                workspace.onlyRunId() != nil && workspace.stepTransitions() >= count
            }
        case .midWait:
            poll("the wait has started") {
                workspace.onlyRunId() != nil
                    && workspace.query("SELECT count(*) FROM journal WHERE step_id = 'settle' AND kind = 'step.status'") == "1"
            }
            usleep(1_000_000)
        }
        let transitionsAtKill = workspace.stepTransitions()
        #expect(child.crash(), "drctl ended before the kill")
        let runId = try #require(workspace.onlyRunId())
        // Every crash point comes before the last step's end, so the journal says the run is still running.
        #expect(workspace.query("SELECT status FROM runs WHERE id = '\(runId)'") == "running")
        #expect(transitionsAtKill < Self.cleanTransitions)

        let resumed = try workspace.drctl(["resume", runId, "--yes"])
        #expect(resumed.status == 0, "killed at \(transitionsAtKill) transitions; resume said:\n\(resumed.stdout)\n\(resumed.stderr)")

        #expect(workspace.effects().sorted() == Self.recording.sorted(), "killed at \(transitionsAtKill) transitions")
        let timeline = try workspace.show(runId)
        #expect(timeline.status == "succeeded")
        #expect(timeline.steps.map(\.id) == Self.steps)
        for step in timeline.steps {
            #expect(step.status == "succeeded", "step \(step.id) is \(step.status) after a kill at \(transitionsAtKill) transitions")
        }
    }

    /// The command wrote its line and is still running when the process dies: the journal holds
    /// the intent without an outcome, so resume must observe (the line is there) and not act again.
    @Test func killBetweenIntentAndOutcomeIsObservedNotRepeated() throws {
        let workspace = try RunbookWorkspace()
        let pidFile = workspace.directory.appendingPathComponent("promote.pid").path
        let text = "name: in-doubt\nsteps:\n"
            + workspace.recordingStep("prepare")
            + workspace.recordingStep("promote", needs: ["prepare"], then: "echo $$ > \(pidFile); sleep 30")
            + workspace.recordingStep("announce", needs: ["promote"])
        let file = try workspace.write("in-doubt.yaml", text)
        let child = try workspace.start(["run", file, "--yes"])
        poll("the promote command has written its line") { FileManager.default.fileExists(atPath: pidFile) }
        #expect(child.crash(), "drctl ended before the kill")
        // The shell dies with drctl, but its `sleep 30` would outlive it and the resume would wait
        // for it (ExecCancellationTests covers that); end the command's group ourselves.
        if let pid = Int32((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") {
            kill(-pid, SIGKILL)
        }
        let runId = try #require(workspace.onlyRunId())
        #expect(workspace.query("SELECT count(*) FROM journal WHERE step_id = 'promote' AND kind = 'step.intent'") == "1")
        #expect(workspace.query("SELECT count(*) FROM journal WHERE step_id = 'promote' AND kind = 'step.outcome'") == "0")

        let resumed = try workspace.drctl(["resume", runId, "--yes"])
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(workspace.effects() == ["prepare", "promote", "announce"])
        // No second intent: the command did not run again; the outcome came from observing.
        #expect(workspace.query("SELECT count(*) FROM journal WHERE step_id = 'promote' AND kind = 'step.intent'") == "1")
        #expect(workspace.query("""
            SELECT count(*) FROM journal WHERE step_id = 'promote' AND kind = 'step.outcome'
            AND json_extract(detail, '$.observed.bool._0') = 1
            """) == "1")
        let timeline = try workspace.show(runId)
        #expect(timeline.status == "succeeded")
        #expect(timeline.steps.allSatisfy { $0.status == "succeeded" })
    }
}
