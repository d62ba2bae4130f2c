import Foundation
import Testing

/// Approvals answered in a real terminal (tmux), the paused path without one, and Ctrl-C.
@Suite("Approvals")
struct ApprovalTests {
    /// before → gate (irreversible: type orders-replica) → after.
    static func gatedRunbook(_ workspace: RunbookWorkspace) -> String {
        "name: promote-orders\nsteps:\n"
            + workspace.recordingStep("before")
            + """
              - id: gate
                action: approve
                needs: [before]
                with: { summary: "promote orders-replica to primary", irreversible: true, resource: orders-replica }

            """
            + workspace.recordingStep("after", needs: ["gate"])
    }

    @Test func irreversibleApprovalNeedsTheResourceNameTyped() throws {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("gate.yaml", Self.gatedRunbook(workspace))
        let terminal = try TmuxTerminal(workspace, ["run", file, "--operator", "bob"])
        terminal.waitFor("Type yes to start:")
        #expect(terminal.screen().contains("to see each call. Type yes to start:"), "the prompt comes last: \(terminal.screen())")
        terminal.type("yes")
        terminal.waitFor("Type orders-replica to approve")
        #expect(terminal.screen().contains("promote orders-replica to primary"))
        #expect(workspace.effects() == ["before"])

        terminal.type("orders-replcia")
        terminal.waitFor("That does not match orders-replica.")
        terminal.waitFor("Type orders-replica to approve", times: 2)
        #expect(workspace.effects() == ["before"], "nothing after the gate runs on a wrong name")

        terminal.type("orders-replica")
        #expect(terminal.exitStatus() == 0, "\(terminal.screen())")
        #expect(workspace.effects() == ["before", "after"])
        let timeline = try workspace.show(try #require(workspace.onlyRunId()))
        #expect(timeline.status == "succeeded")
        #expect(timeline.steps.first { $0.id == "gate" }?.approvedBy == "bob")
    }

    /// `on_failure: ask` at a terminal: the operator types the step id to go on without it; the
    /// run then ends degraded (13), and the journal says who accepted the failure.
    @Test func aFailureWithAskIsAcceptedAtTheTerminalAndTheRunEndsDegraded() throws {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("ask.yaml", "name: ask-at-terminal\nsteps:\n"
            + "  - { id: fence, action: exec, on_failure: ask, with: { command: \"echo refused >&2; exit 3\" } }\n"
            + workspace.recordingStep("promote", needs: ["fence"]))
        let terminal = try TmuxTerminal(workspace, ["run", file, "--operator", "carol"])
        terminal.waitFor("Type yes to start:")
        terminal.type("yes")
        terminal.waitFor("Type fence to approve")
        #expect(terminal.screen().contains("step fence failed"), "\(terminal.screen())")
        #expect(workspace.effects().isEmpty)
        terminal.type("fence")
        #expect(terminal.exitStatus() == 13, "\(terminal.screen())")
        #expect(workspace.effects() == ["promote"])
        let timeline = try workspace.show(try #require(workspace.onlyRunId()))
        #expect(timeline.status == "degraded")
        #expect(workspace.query("SELECT count(*) FROM journal WHERE kind = 'run.note' AND detail LIKE '%tolerated%' AND detail LIKE '%carol%'") == "1")
    }

    @Test func typingNoDeniesTheApprovalAndFailsTheRun() throws {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("gate.yaml", Self.gatedRunbook(workspace))
        let terminal = try TmuxTerminal(workspace, ["run", file, "--operator", "bob"])
        terminal.waitFor("Type yes to start:")
        terminal.type("yes")
        terminal.waitFor("Type orders-replica to approve")
        terminal.type("no")
        #expect(terminal.exitStatus() == 1, "\(terminal.screen())")
        #expect(workspace.effects() == ["before"])
        let timeline = try workspace.show(try #require(workspace.onlyRunId()))
        #expect(timeline.status == "failed")
        let gate = timeline.steps.first { $0.id == "gate" }
        #expect(gate?.status == "failed")
        #expect(gate?.error?.contains("denied by bob") == true, "\(gate?.error ?? "no error")")
        #expect(timeline.steps.first { $0.id == "after" }?.attempts == 0)
    }

    @Test func withoutATerminalTheRunPausesAndApproveContinuesIt() throws {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("gate.yaml", Self.gatedRunbook(workspace))
        let paused = try workspace.drctl(["run", file])
        #expect(paused.status == 5, "\(paused.stdout)\n\(paused.stderr)")
        let runId = try #require(workspace.onlyRunId())
        #expect(paused.stderr.contains("drctl approve \(runId) gate"), "\(paused.stderr)")
        #expect(workspace.effects() == ["before"], "nothing irreversible runs without an approval")
        #expect(try workspace.show(runId).status == "paused")

        let approved = try workspace.drctl(["approve", runId, "gate", "--yes", "--operator", "alice"])
        #expect(approved.status == 0, "\(approved.stdout)\n\(approved.stderr)")
        #expect(workspace.effects() == ["before", "after"])
        let timeline = try workspace.show(runId)
        #expect(timeline.status == "succeeded")
        #expect(timeline.steps.first { $0.id == "gate" }?.approvedBy == "alice")

        let journal = try workspace.drctl(["show", runId, "--journal"])
        let approval = journal.stdout.split(separator: "\n").filter { $0.contains("step.approval gate") }
        #expect(approval.count == 1, "\(journal.stdout)")
        #expect(approval.first?.contains("by=alice") == true)
        #expect(approval.first?.contains("decision=approved") == true)
        #expect(approval.first?.contains("promote orders-replica to primary") == true, "what alice was shown")
    }

    @Test func controlCDuringAWaitPausesAtTheBoundaryAndResumeCompletes() throws {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("settle.yaml", "name: settle\nsteps:\n"
            + "  - { id: settle, action: wait, with: { duration: 3s } }\n"
            + workspace.recordingStep("after", needs: ["settle"]))
        let terminal = try TmuxTerminal(workspace, ["run", file, "--yes"])
        terminal.waitFor("step settle started")
        terminal.pressControlC()
        terminal.waitFor("pausing at the next step boundary")
        #expect(terminal.exitStatus() == 130, "\(terminal.screen())")
        #expect(workspace.effects().isEmpty, "no step starts after Ctrl-C")
        let runId = try #require(workspace.onlyRunId())
        let timeline = try workspace.show(runId)
        #expect(timeline.status == "interrupted")
        #expect(timeline.steps.first { $0.id == "settle" }?.status == "succeeded", "the wait in flight finishes")
        #expect(terminal.screen().contains("drctl resume \(runId)"))

        let resumed = try workspace.drctl(["resume", runId, "--yes"])
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(workspace.effects() == ["after"])
        #expect(try workspace.show(runId).status == "succeeded")
    }

    /// A second Ctrl-C stops the wait in flight; the run is interrupted (not "outcome unknown":
    /// waiting changes nothing) and resume finishes it.
    @Test func secondControlCStopsTheWaitNowAndResumeCompletes() throws {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("settle.yaml", "name: settle-long\nsteps:\n"
            + "  - { id: settle, action: wait, with: { duration: 4s } }\n"
            + workspace.recordingStep("after", needs: ["settle"]))
        let terminal = try TmuxTerminal(workspace, ["run", file, "--yes"])
        terminal.waitFor("step settle started")
        terminal.pressControlC()
        terminal.waitFor("pausing at the next step boundary")
        terminal.pressControlC()
        terminal.waitFor("stopping now")
        #expect(terminal.exitStatus() == 130, "\(terminal.screen())")
        let runId = try #require(workspace.onlyRunId())
        let timeline = try workspace.show(runId)
        #expect(timeline.status == "interrupted")
        #expect(timeline.steps.first { $0.id == "settle" }?.status != "succeeded", "the wait was cut short")
        #expect(workspace.effects().isEmpty)

        let resumed = try workspace.drctl(["resume", runId, "--yes"])
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(workspace.effects() == ["after"])
        #expect(try workspace.show(runId).steps.allSatisfy { $0.status == "succeeded" })
    }
}
