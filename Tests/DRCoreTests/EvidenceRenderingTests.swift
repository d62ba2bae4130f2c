@testable import DRCore
import Foundation
import Testing

@Suite("Evidence rendering")
struct EvidenceRenderingTests {
    /// Every key of the JSON report, by path. Changing one breaks machines that read the reports:
    /// bump `RunEvidence.jsonSchema` and this list together.
    static let pinnedKeys: [String: [String]] = [
        "": ["approvals", "compensations", "data_loss_acceptance", "preflight_checks", "rpo", "rto", "run", "schema", "steps", "transitions", "validations"],
        "run": ["ended_at", "from_region", "host", "id", "inputs", "journal_entries", "mode", "plan", "runbook", "runbook_digest", "runbook_path",
                "started_at", "started_by", "status", "to_region"],
        "rto": ["budget_seconds", "forecast_seconds", "measured_seconds", "verdict"],
        "rpo": ["budget_seconds", "expected_seconds", "measured_seconds", "source", "verdict"],
        "steps[]": ["action", "approved_by", "attempts", "compensated", "denied_by", "description", "duration_seconds", "ended_at", "error", "id",
                    "outputs", "result", "shown", "started_at"],
        "approvals[]": ["at", "by", "decision", "reason", "shown", "step", "via"],
        "compensations[]": ["action", "ended_at", "error", "reason", "result", "started_at", "step", "summary"],
        "transitions[]": ["at", "from", "reason", "to"],
        "data_loss_acceptance": ["accepted_seconds", "at", "budget_seconds", "by", "expected_seconds"],
    ]

    static func sample() -> RunEvidence {
        var script = JournalScript.failover(end: 200)
        script.add(1, .note, ["event": .string("data-loss-accepted"), "accepted": .duration(600), "expected": .duration(30),
                              "budget": .duration(3600), "by": .string("carol")])
        script.add(201, .compensation, step: "dns", ["phase": .string("intent"), "action": .string("exec"), "reason": .string("abort")])
        script.add(202, .compensation, step: "dns", ["phase": .string("outcome"), "result": .string("succeeded")])
        return script.evidence()
    }

    @Test func jsonKeysAreStableAndAlwaysPresent() throws {
        let text = Self.sample().json.rendered()
        let root = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        func keys(_ path: String) -> [String] {
            var node: Any = root
            for part in path.split(separator: ".") where !part.isEmpty {
                let name = part.hasSuffix("[]") ? String(part.dropLast(2)) : String(part)
                node = (node as? [String: Any])?[name] as Any
                if part.hasSuffix("[]") { node = (node as? [Any])?.first as Any }
            }
            return ((node as? [String: Any])?.keys.sorted()) ?? []
        }
        for (path, expected) in Self.pinnedKeys {
            #expect(keys(path) == expected, "keys of \(path.isEmpty ? "the root" : path)")
        }
        #expect(root["schema"] as? String == "drctl.evidence/v1")
        // Absent values are null, not missing: the run has no measured RPO.
        let rpo = try #require(root["rpo"] as? [String: Any])
        #expect(rpo["measured_seconds"] is NSNull)
        #expect((root["rto"] as? [String: Any])?["verdict"] as? String == "over")
    }

    @Test func jsonIsDeterministicAndEscapesText() throws {
        var script = JournalScript.failover()
        script.step("dns", 96, "succeeded", "failed", error: "quote \" backslash \\ newline\n tab\t bell\u{07}")
        let evidence = script.evidence()
        #expect(evidence.json.rendered() == evidence.json.rendered())
        let text = evidence.json.rendered()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let steps = try #require(object["steps"] as? [[String: Any]])
        #expect(steps.last?["error"] as? String == "quote \" backslash \\ newline\n tab\t bell\u{07}")
        #expect(text.contains(#""started_at": "2026-04-01T12:00:05.000Z""#))
    }

    @Test func markdownHasSummaryStepsApprovalsAndVerdicts() {
        var script = JournalScript.failover(end: 200)
        script.step("dns", 201, "succeeded", "failed", error: "a | b <img src=x>")
        let markdown = EvidenceMarkdown.render(script.evidence())
        #expect(markdown.hasPrefix("# Evidence: failover run-20260401-120000-abcdef\n"))
        #expect(markdown.contains("| Started by | alice on ops-1 |"))
        #expect(markdown.contains("| Plan | orders |"))
        #expect(markdown.contains("- **RTO**: OVER BUDGET — 3m15s measured of a 2m budget (forecast 1m30s)"))
        #expect(markdown.contains("- **RPO**: within budget — 30s expected of a 1h budget"))
        #expect(markdown.contains("| go-ahead | approved | bob | terminal | 2026-04-01 12:00:11 UTC | Step go-ahead: promote the replica |"))
        #expect(markdown.contains("| promote | exec | succeeded | 2026-04-01 12:00:11 UTC | 2026-04-01 12:03:10 UTC | 2m59s | 1 |"))
        // A pipe in journal text cannot break the table, nor HTML get through.
        #expect(markdown.contains("a \\| b &lt;img src=x&gt;"))
        #expect(!markdown.contains("<img"))
        #expect(markdown.contains("## Preflight checks"))
    }

    @Test func htmlEscapesTextAndDrawsOneBarPerStartedStep() {
        var script = JournalScript.failover(end: 95)
        script.step("dns", 96, "succeeded", "failed", error: "</td><script>alert('x')</script>")
        script.record.startedBy = "eve\" onmouseover=\"x"
        let html = EvidenceHTML.render(script.evidence())
        #expect(!html.contains("<script"))
        #expect(html.contains("&lt;/td&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        #expect(!html.contains("eve\" onmouseover"))
        #expect(html.contains(#"<svg id="timeline""#))
        #expect(html.components(separatedBy: #"<rect class="bar "#).count - 1 == 4)
        #expect(html.contains(#"class="marker rto-budget""#))
        #expect(html.contains(#"<svg id="rpo-chart""#))
        for forbidden in ["http://", "https://", "<link", "<script", "@import", "url("] {
            #expect(!html.contains(forbidden), "\(forbidden) in a self-contained page")
        }
    }

    @Test func timelinePutsAFarAwayBudgetAtTheEdgeInsteadOfShrinkingTheBars() {
        let text = JournalScript.runbookText.replacingOccurrences(of: "rto: 2m", with: "rto: 4h")
        var script = JournalScript.failover(end: 95)
        script.record.runbookText = text
        let html = EvidenceHTML.render(script.evidence())
        #expect(html.contains("RTO budget 4h → (beyond this axis)"))
        #expect(!html.contains(#"class="marker rto-budget""#))
    }

    /// Issue 16, defect 10: a run much shorter than its forecast (a 19 s drill forecast at 44 m)
    /// is drawn on its own time, with the forecast and the budget at the edge; long step ids stay
    /// inside the chart; the marker labels fit under the axis.
    @Test func timelineZoomsToTheRunAndKeepsLabelsInside() throws {
        let long = "teardown-snapshot-orders-eu-central-1-primary-cluster"
        let text = JournalScript.runbookText.replacingOccurrences(of: "estimate: 60s", with: "estimate: 44m")
            .replacingOccurrences(of: "rto: 2m", with: "rto: 4h").replacingOccurrences(of: "id: dns", with: "id: \(long)")
        var script = JournalScript.failover(end: 24)
        script.record.runbookText = text
        script.entries = script.entries.map { entry in
            guard entry.stepId == "dns" else { return entry }
            var renamed = entry
            renamed.stepId = long
            return renamed
        }
        let evidence = script.evidence()
        #expect(evidence.rto.forecastSeconds ?? 0 > 2600 && (evidence.rto.measuredSeconds ?? 0) < 30)
        let svg = TimelineChart.timeline(evidence)
        #expect(svg.contains("forecast 44m") && svg.contains("→ (beyond this axis)"))
        #expect(!svg.contains(#"class="marker rto-forecast""#))
        // The widest bar takes a real part of the plot (the plot is 780 px wide).
        let widths = svg.components(separatedBy: #" width=""#).dropFirst(2).compactMap { Double($0.prefix { $0 != "\"" }) }
        #expect((widths.max() ?? 0) > 100, "\(widths)")
        #expect(svg.contains("<title>\(long)</title>") && svg.contains(TimelineChart.label(long)) && TimelineChart.label(long).count <= 28)
        // The lowest marker label's baseline plus a line fits in the picture.
        let height = Double(svg.components(separatedBy: #"height=""#)[1].prefix { $0 != "\"" }) ?? 0
        let ys = svg.components(separatedBy: #"class="marker-label"#).dropFirst().compactMap { part -> Double? in
            guard let range = part.range(of: #" y=""#) else { return nil }
            return Double(part[range.upperBound...].prefix { $0 != "\"" })
        }
        #expect((ys.max() ?? 0) + 4 <= height, "\(ys) in \(height)")
    }
}
