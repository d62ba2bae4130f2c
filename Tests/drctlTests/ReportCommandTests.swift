import DRCore
import Foundation
import Testing

/// `drctl report`: evidence files of a real run, their well-formedness and self-containment, the
/// HTML rendered by headless Chromium, and the history across quarters.
@Suite("Report command")
struct ReportCommandTests {
    static let runbook = """
        name: report-tour
        budgets: { rpo: 1h, rto: 10m }
        steps:
          - { id: prepare, action: exec, with: { command: "true" }, estimate: 1s }
          - { id: settle, action: wait, needs: [prepare], with: { duration: 1s }, estimate: 1s }
          - { id: go-ahead, action: approve, needs: [settle], with: { summary: "switch <the> \\"region\\" & go" } }
          - { id: switch, action: exec, needs: [go-ahead], with: { command: "true" } }

        """

    /// Runs the tour runbook to success and returns the workspace and the run id.
    static func finishedRun() throws -> (RunbookWorkspace, String) {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("tour.yaml", runbook)
        let result = try workspace.drctl(["run", file, "--yes", "--operator", "auditor-test"])
        #expect(result.status == 0, "run failed: \(result.stderr)")
        let id = try #require(workspace.onlyRunId())
        return (workspace, id)
    }

    func report(_ workspace: RunbookWorkspace, _ arguments: [String]) throws -> DrctlProcess.Result {
        try workspace.drctl(["report"] + arguments + ["--state", workspace.statePath])
    }

    @Test func writesJSONMarkdownAndHTMLIntoTheOutputDirectory() throws {
        let (workspace, id) = try Self.finishedRun()
        let out = workspace.directory.appendingPathComponent("evidence")
        let result = try report(workspace, [id, "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        for ext in ["json", "md", "html"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(id).\(ext)").path), "\(id).\(ext) missing")
        }
        #expect(result.stdout.split(separator: "\n").count == 3)

        let json = try Data(contentsOf: out.appendingPathComponent("\(id).json"))
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        let run = try #require(object["run"] as? [String: Any])
        #expect(run["id"] as? String == id)
        #expect(run["started_by"] as? String == "auditor-test")
        #expect(run["status"] as? String == "succeeded")
        let steps = try #require(object["steps"] as? [[String: Any]])
        #expect(steps.map { $0["id"] as? String } == ["prepare", "settle", "go-ahead", "switch"])
        #expect(steps.allSatisfy { $0["result"] as? String == "succeeded" })
        let rto = try #require(object["rto"] as? [String: Any])
        #expect(rto["budget_seconds"] as? Double == 600)
        #expect(rto["verdict"] as? String == "within")
        let approvals = try #require(object["approvals"] as? [[String: Any]])
        #expect(approvals.first?["by"] as? String == "auditor-test")
        #expect(approvals.first?["via"] as? String == "--yes")

        let markdown = try String(contentsOf: out.appendingPathComponent("\(id).md"), encoding: .utf8)
        #expect(markdown.contains("| Started by | auditor-test on "))
        #expect(markdown.contains("| go-ahead | approve | succeeded |"))
    }

    @Test func printsOneFormatToStdout() throws {
        let (workspace, id) = try Self.finishedRun()
        let markdown = try report(workspace, [id, "--format", "markdown"])
        #expect(markdown.status == 0)
        #expect(markdown.stdout.hasPrefix("# Evidence: run \(id)"))
        let json = try report(workspace, [id, "--format", "json"])
        #expect((try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8))) != nil)
        // Nothing written to the current directory when printing.
        #expect(!FileManager.default.fileExists(atPath: workspace.directory.appendingPathComponent("\(id).json").path))
    }

    @Test func htmlIsWellFormedAndSelfContained() throws {
        let (workspace, id) = try Self.finishedRun()
        let result = try report(workspace, [id, "--format", "html", "--out", workspace.directory.path])
        #expect(result.status == 0, "\(result.stderr)")
        let path = workspace.directory.appendingPathComponent("\(id).html").path
        let check = try ReportInspection.python(ReportInspection.wellFormedHTML, [path])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")

        let html = try String(contentsOfFile: path, encoding: .utf8)
        for forbidden in ["http://", "https://", "<script", "<link", "<iframe", "<img", "@import", "url("] {
            #expect(!html.lowercased().contains(forbidden), "\(forbidden) in the report")
        }
        // The approval text with markup characters is escaped, not interpreted.
        #expect(html.contains("switch &lt;the&gt; &quot;region&quot; &amp; go"))
    }

    @Test func headlessChromiumRendersTheTimeline() throws {
        let (workspace, id) = try Self.finishedRun()
        #expect(try report(workspace, [id, "--format", "html", "--out", workspace.directory.path]).status == 0)
        let page = workspace.directory.appendingPathComponent("\(id).html")
        guard let chromium = ReportInspection.chromium() else {
            Issue.record("chromium is not installed and could not be installed (apt-get install chromium; see scripts/setup.sh)")
            return
        }
        let profile = workspace.directory.appendingPathComponent("chromium-profile")

        let screenshot = workspace.directory.appendingPathComponent("report.png")
        let shot = try ReportInspection.headless(chromium, profile: profile, ["--screenshot=\(screenshot.path)", "--window-size=1200,900", page.absoluteString])
        #expect(shot.status == 0, "chromium: \(shot.stderr.suffix(500))")
        let size = (try? FileManager.default.attributesOfItem(atPath: screenshot.path)[.size] as? Int) ?? 0
        #expect(size > 10_000, "screenshot of \(size) bytes")
        let pixels = try ReportInspection.python(ReportInspection.pngColours, [screenshot.path])
        #expect(pixels.status == 0, "\(pixels.stderr)")
        let parts = pixels.stdout.split(separator: " ")
        #expect(parts.first == "1200x900")
        // White page, text, table borders, green bars, the budget marker: many colours, not one.
        #expect((parts.last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0) >= 8, "colours: \(pixels.stdout)")

        let dom = try ReportInspection.headless(chromium, profile: profile, ["--dump-dom", page.absoluteString])
        #expect(dom.status == 0, "chromium: \(dom.stderr.suffix(500))")
        #expect(dom.stdout.contains(#"<svg id="timeline""#))
        let bars = dom.stdout.components(separatedBy: #"<rect class="bar result-succeeded""#).count - 1
        #expect(bars == 4, "bars in the rendered DOM: \(bars)")
    }

    @Test func historyAcrossTwoQuartersWithPlanAndSinceFilters() async throws {
        let workspace = try RunbookWorkspace()
        let store = try SQLiteStateStore(path: workspace.statePath)
        let q1 = Date(timeIntervalSince1970: 1_768_478_400)   // 2026-01-15 12:00 UTC
        let q2 = Date(timeIntervalSince1970: 1_776_254_400)   // 2026-04-15 12:00 UTC
        let runs: [(String, Date, Double, RunStatus, String, String)] = [
            ("drill-q1-a", q1, 600, .succeeded, "drill", "orders"),
            ("drill-q1-b", q1.addingTimeInterval(86_400), 400, .succeeded, "drill", "orders"),
            ("failover-q1", q1.addingTimeInterval(2 * 86_400), 50, .failed, "failover", "orders"),
            ("drill-q2", q2, 200, .succeeded, "drill", "orders"),
            ("drill-q2-other", q2, 9000, .succeeded, "drill", "payments"),
        ]
        for (id, start, seconds, status, mode, plan) in runs {
            try await store.createRun(RunRecord(id: id, runbookName: "\(mode)-\(plan)", runbookPath: "/nowhere/\(id).yaml", runbookDigest: "00",
                                                runbookText: "name: \(mode)-\(plan)\nbudgets: { rpo: 1h, rto: 15m }\nsteps: []\n", inputs: [:],
                                                status: status, createdAt: start, updatedAt: start, startedBy: "cron", host: "k8s",
                                                mode: mode, lockScope: "plan:\(plan)"))
            try await store.append(JournalEntry(runId: id, at: start, kind: .runStatus, detail: ["to": .string("running")]))
            try await store.append(JournalEntry(runId: id, at: start, kind: .note, detail: ["event": .string("rpo-measured"), "measured_rpo": .duration(seconds / 10)]))
            try await store.append(JournalEntry(runId: id, at: start.addingTimeInterval(seconds), kind: .runStatus,
                                                detail: ["from": .string("running"), "to": .string(status.rawValue)]))
        }

        let all = try workspace.drctl(["report", "--history", "--plan", "orders", "--format", "json", "--state", workspace.statePath])
        #expect(all.status == 0, "\(all.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any])
        let quarters = try #require(object["quarters"] as? [[String: Any]])
        #expect(quarters.map { $0["quarter"] as? String } == ["2026-Q1", "2026-Q2"])
        #expect(quarters.first?["runs"] as? Int == 3)
        #expect(quarters.first?["success_rate"] as? Double == 0.667)
        #expect((quarters.first?["rto"] as? [String: Any])?["median_seconds"] as? Double == 500)
        #expect((quarters.last?["rpo"] as? [String: Any])?["max_seconds"] as? Double == 20)
        #expect(object["rto_trend"] as? String == "improving")

        let text = try workspace.drctl(["report", "--history", "--plan", "orders", "--state", workspace.statePath])
        #expect(text.stdout.contains("RTO trend: improving"))
        let markdown = try workspace.drctl(["report", "--history", "--format", "markdown", "--since", "2026-04-01", "--state", workspace.statePath])
        #expect(markdown.stdout.contains("| 2026-Q2 | 2 | 2 | 100% |"))
        #expect(!markdown.stdout.contains("2026-Q1"))
    }

    @Test func refusesMissingRunsAndMixedArguments() throws {
        let workspace = try RunbookWorkspace()
        let missing = try workspace.drctl(["report", "run-nope", "--state", workspace.statePath])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no run run-nope"))
        #expect(try workspace.drctl(["report", "--state", workspace.statePath]).status == 2)
        #expect(try workspace.drctl(["report", "--history", "--format", "html", "--state", workspace.statePath]).status == 2)
        #expect(try workspace.drctl(["report", "--history", "--since", "last tuesday", "--state", workspace.statePath]).status == 2)
    }
}
