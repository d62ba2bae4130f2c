import DRCore
import Foundation
import Testing

/// The text a run pins (`runs.runbook_text`) is read again by `drctl approve` / `resume` when the
/// runbook has no file (every generated failover, switchover and drill runbook). drctl's own
/// rendered text may pass the 1 MiB limit on files (a failover of ~1,000 databases does); it must
/// not be refused when it comes back from the store.
@Suite("Runbook text pinned in a run")
struct StoredRunbookLimitTests {
    @Test func aPinnedRunbookOverOneMebibyteIsReadBackByApprove() throws {
        let workspace = try RunbookWorkspace()
        let source = "name: big-generated\nsteps:\n"
            + workspace.recordingStep("before")
            + "  - { id: gate, action: approve, needs: [before], with: { summary: go on } }\n"
            + workspace.recordingStep("after", needs: ["gate"])
        let file = try workspace.write("big-generated.yaml", source)
        let paused = try workspace.drctl(["run", file])
        #expect(paused.status == 5, "\(paused.stdout)\n\(paused.stderr)")
        let runId = try #require(workspace.onlyRunId())

        // The same runbook as drctl renders it, grown past 1 MiB (a long description stands in for
        // a thousand more steps), pinned in the run; no file left to fall back to.
        var runbook = try RunbookLoader.parse(text: source, path: file)
        runbook.description = String(repeating: "failover of a very large plan; ", count: 40_000)
        let text = RunbookRenderer.render(runbook)
        #expect(text.utf8.count > RunbookLoader.maximumFileSize)
        let textFile = try workspace.write("pinned.yaml", text)
        _ = workspace.query("UPDATE runs SET runbook_text = CAST(readfile('\(textFile)') AS TEXT) WHERE id = '\(runId)'")
        #expect(workspace.query("SELECT length(runbook_text) FROM runs WHERE id = '\(runId)'") == String(text.utf8.count))
        try FileManager.default.removeItem(atPath: file)
        try FileManager.default.removeItem(atPath: textFile)

        let approved = try workspace.drctl(["approve", runId, "gate", "--yes", "--operator", "alice"])
        #expect(approved.status == 0, "\(approved.stdout)\n\(approved.stderr)")
        #expect(workspace.effects() == ["before", "after"])
        #expect(try workspace.show(runId).status == "succeeded")
    }
}
