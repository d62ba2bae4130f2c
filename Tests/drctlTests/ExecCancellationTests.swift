import Foundation
import Testing

/// The real `drctl` with `exec` steps stopped mid-command: by a step timeout, by a second Ctrl-C,
/// by `kill -9` of drctl itself; and in-doubt commands that cannot be observed.
@Suite("Exec steps stopped mid-command")
struct ExecCancellationTests {
    /// Gone: reaped (`kill(pid, 0)` still succeeds on a zombie).
    static func isGone(_ pid: Int32) -> Bool { kill(pid, 0) != 0 && errno == ESRCH }

    /// Gone, or dead and not yet reaped by init (its parent, drctl, died first).
    static func isDead(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return isGone(pid) }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }

    static func pid(in path: String) -> Int32? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int32($0.split(separator: "\n").last.map(String.init) ?? "") }
    }

    func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func aStepTimeoutStopsTheCommandAndTheRunFailsResumably() throws {
        let workspace = try RunbookWorkspace()
        let dir = workspace.directory.path
        let file = try workspace.write("slow.yaml", """
        name: slow
        steps:
          - { id: slow, action: exec, timeout: 300ms, with: { command: "echo $$ >> \(dir)/pids; [ -f \(dir)/fixed ] || exec sleep 5" } }
        """)
        let started = Date()
        let result = try workspace.drctl(["run", file, "--yes"])
        #expect(result.status == 1, "the run failed (not a crash): \(result.status)\n\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 4)
        let pid = try #require(Self.pid(in: "\(dir)/pids"))
        #expect(Self.isGone(pid), "the command was stopped and reaped")
        let runId = try #require(workspace.onlyRunId())
        let failed = try workspace.show(runId)
        #expect(failed.status == "failed")
        #expect(failed.steps.first?.status == "failed")
        #expect(failed.steps.first?.error?.contains("timed out after 300ms") == true)

        try workspace.write("fixed", "")
        let resumed = try workspace.drctl(["resume", runId, "--yes"])
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(try workspace.show(runId).status == "succeeded")
    }

    @Test func aSecondInterruptDuringAnExecStepExits130AndResumeObservesFirst() throws {
        let workspace = try RunbookWorkspace()
        let dir = workspace.directory.path
        let file = try workspace.write("long.yaml", """
        name: long
        steps:
          - id: long
            action: exec
            with:
              command: "echo $$ >> \(dir)/pids; [ -f \(dir)/second ] || { touch \(dir)/second; exec sleep 30; }; touch \(dir)/done"
              observe: "test -f \(dir)/done"
        """)
        let child = try workspace.start(["run", file, "--yes"])
        poll("the command runs") { Self.pid(in: "\(dir)/pids") != nil }
        child.signal(SIGINT)
        usleep(200_000)
        child.signal(SIGINT)
        let result = child.finish(within: 10)
        #expect(result.status == 130, "\(result.stdout)\n\(result.stderr)")
        let pid = try #require(Self.pid(in: "\(dir)/pids"))
        #expect(Self.isGone(pid), "the command was stopped and reaped")
        let runId = try #require(workspace.onlyRunId())
        let stopped = try workspace.show(runId)
        #expect(stopped.status == "interrupted")
        #expect(stopped.steps.first?.status == "unknown", "it was stopped while it acted")

        let resumed = try workspace.drctl(["resume", runId, "--yes"])
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/done"))
    }

    /// The command's shell dies with drctl (PR_SET_PDEATHSIG), but a subshell it started lives on
    /// in the command's process group and writes the effect later. An immediate resume must wait
    /// for that group before it observes: the effect happens exactly once.
    @Test func killingDrctlNeverRunsAnInDoubtCommandTwice() throws {
        let workspace = try RunbookWorkspace()
        let dir = workspace.directory.path
        let file = try workspace.write("orphan.yaml", """
        name: orphan
        steps:
          - id: write
            action: exec
            with:
              command: "echo $$ > \(dir)/shell.pid; (sleep 2; echo x >> \(dir)/count); sleep 0.2"
              observe: "grep -q x \(dir)/count"
        """)
        let child = try workspace.start(["run", file, "--yes"])
        poll("the command runs") { Self.pid(in: "\(dir)/shell.pid") != nil }
        let started = Date()
        #expect(child.crash(), "drctl ended before the kill")
        let shell = try #require(Self.pid(in: "\(dir)/shell.pid"))
        #expect(poll(for: 1, "the command's shell dies with drctl") { Self.isDead(shell) })

        let runId = try #require(workspace.onlyRunId())
        let resumed = try workspace.drctl(["resume", runId, "--yes"])
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(resumed.stdout.contains("still runs (process group \(shell))"), "\(resumed.stdout)")
        // Past the moment the leftover subshell writes, had nobody waited for it.
        usleep(useconds_t(max(0, 2.5 - Date().timeIntervalSince(started)) * 1_000_000))
        #expect(lines("\(dir)/count") == ["x"], "the effect happened exactly once")
        #expect(workspace.query("SELECT count(*) FROM journal WHERE step_id = 'write' AND kind = 'step.intent'") == "1")
    }

    @Test func anInDoubtExecWithoutObserveStopsAsUnknownUntilARerunIsAllowed() throws {
        let workspace = try RunbookWorkspace()
        let dir = workspace.directory.path
        let runId = try crashDuringBlindStep(workspace)

        let refused = try workspace.drctl(["resume", runId, "--yes"])
        #expect(refused.status == 6, "\(refused.stdout)\n\(refused.stderr)")
        #expect(refused.stderr.contains("--rerun-unknown blind"), "\(refused.stderr)")
        #expect(lines("\(dir)/count") == ["x"], "--yes alone does not run it again")
        #expect(try workspace.show(runId).status == "unknown")

        let typo = try workspace.drctl(["resume", runId, "--rerun-unknown", "blnd"])
        #expect(typo.status == 2, "\(typo.stderr)")

        let allowed = try workspace.drctl(["resume", runId, "--yes", "--rerun-unknown", "blind", "--operator", "frank"])
        #expect(allowed.status == 0, "\(allowed.stdout)\n\(allowed.stderr)")
        #expect(lines("\(dir)/count") == ["x", "x"], "run again once, as allowed")
        #expect(workspace.query("""
            SELECT json_extract(detail, '$.by.string._0') || ' ' || json_extract(detail, '$.via.string._0')
            FROM journal WHERE step_id = 'blind' AND kind = 'step.approval'
            """) == "frank --rerun-unknown")
    }

    @Test func atATerminalResumeAsksBeforeRunningAnUnobservableStepAgain() throws {
        let workspace = try RunbookWorkspace()
        let dir = workspace.directory.path
        let runId = try crashDuringBlindStep(workspace)

        let terminal = try TmuxTerminal(workspace, ["resume", runId, "--operator", "erin"])
        terminal.waitFor("Type blind to run it again")
        #expect(terminal.screen().contains("cannot observe whether that took effect"))
        terminal.type("blind")
        #expect(terminal.exitStatus() == 0, "\(terminal.screen())")
        #expect(lines("\(dir)/count") == ["x", "x"])
        #expect(workspace.query("""
            SELECT json_extract(detail, '$.by.string._0') || ' ' || json_extract(detail, '$.via.string._0')
            FROM journal WHERE step_id = 'blind' AND kind = 'step.approval'
            """) == "erin terminal")
    }

    /// Runs a step without `observe` that appends to `count` and then (the first time) lingers;
    /// kills drctl while it lingers and returns the run id.
    private func crashDuringBlindStep(_ workspace: RunbookWorkspace) throws -> String {
        let dir = workspace.directory.path
        let file = try workspace.write("blind.yaml", """
        name: blind
        steps:
          - { id: blind, action: exec, with: { command: "echo x >> \(dir)/count; [ -f \(dir)/again ] || { touch \(dir)/again; exec sleep 30; }" } }
        """)
        let child = try workspace.start(["run", file, "--yes"])
        poll("the command has written its line") { FileManager.default.fileExists(atPath: "\(dir)/again") }
        #expect(child.crash(), "drctl ended before the kill")
        return try #require(workspace.onlyRunId())
    }
}
