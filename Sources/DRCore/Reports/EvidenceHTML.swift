import Foundation

/// The evidence as one self-contained HTML page: inline CSS, inline SVG charts, no scripts, no
/// fonts, no links to anything — it opens from a file on an air-gapped laptop and prints as is.
/// Every journal text goes through `ReportText.html`.
public enum EvidenceHTML {
    public static func render(_ evidence: RunEvidence, generator: String = "drctl") -> String {
        let esc = ReportText.html
        var body = ""
        func table(_ id: String, _ header: [String], _ rows: [[String]]) {
            body += #"<table id="\#(id)"><thead><tr>"# + header.map { "<th>\(esc($0))</th>" }.joined() + "</tr></thead><tbody>"
            for row in rows { body += "<tr>" + row.map { "<td>\(esc($0))</td>" }.joined() + "</tr>" }
            body += "</tbody></table>\n"
        }

        body += #"<header><h1>Evidence: \#(esc(evidence.mode)) <code>\#(esc(evidence.runId))</code></h1>"#
        body += #"<p>Runbook <strong>\#(esc(evidence.runbookName))</strong> — <span class="status status-\#(TimelineChart.cssName(evidence.status.rawValue))">\#(esc(evidence.status.rawValue))</span></p></header>\#n"#

        body += #"<section id="verdicts"><h2>Budget verdicts</h2><div class="cards">"#
        body += card("RTO", verdict: evidence.rto.verdict, text: ReportText.rto(evidence.rto, verdict: false))
        body += card("RPO", verdict: evidence.rpo.verdict, text: ReportText.rpo(evidence.rpo, verdict: false))
        if let acceptance = evidence.dataLossAcceptance {
            body += #"<div class="card verdict-accepted"><h3>Data loss accepted</h3><p>\#(esc(ReportText.acceptance(acceptance)))</p></div>"#
        }
        body += "</div></section>\n"

        body += #"<section id="summary"><h2>Summary</h2>"#
        var summary: [[String]] = [["Run", evidence.runId], ["Mode", evidence.mode],
                                   ["Runbook", "\(evidence.runbookName) (\(evidence.runbookPath))"], ["Runbook SHA-256", evidence.runbookDigest]]
        if let plan = evidence.plan { summary.append(["Plan", plan]) }
        if evidence.fromRegion != nil || evidence.toRegion != nil { summary.append(["Regions", "\(evidence.fromRegion ?? "?") → \(evidence.toRegion ?? "?")"]) }
        summary += [["Started by", "\(evidence.startedBy) on \(evidence.host)"], ["Started", ReportText.date(evidence.startedAt)],
                    ["Ended", ReportText.date(evidence.endedAt)], ["Status", evidence.status.rawValue]]
        if !evidence.inputs.isEmpty {
            summary.append(["Inputs", evidence.inputs.keys.sorted().map { "\($0)=\(evidence.inputs[$0]!)" }.joined(separator: ", ")])
        }
        table("summary-table", ["Field", "Value"], summary)
        body += "</section>\n"

        body += #"<section id="timeline-section"><h2>Timeline</h2>"#
        body += TimelineChart.timeline(evidence)
        body += #"<p class="legend">"# + ["succeeded", "failed", "compensated", "skipped", "unknown", "running"].map {
            #"<span class="swatch result-\#($0)"></span>\#($0)"#
        }.joined(separator: " ") + #" <span class="line rto-budget"></span>RTO budget <span class="line rto-forecast"></span>forecast <span class="line rto-measured"></span>measured RTO</p>"#
        body += "</section>\n"

        body += #"<section id="rpo-section"><h2>RPO</h2>"# + TimelineChart.rpo(evidence) + "</section>\n"

        body += #"<section id="steps"><h2>Steps</h2>"#
        table("steps-table", ["Step", "Action", "Result", "Started", "Ended", "Duration", "Attempts", "Approver", "Error"],
              evidence.steps.map { step in
                  [step.id, step.action, step.result, ReportText.date(step.startedAt), ReportText.date(step.endedAt),
                   ReportText.duration(step.durationSeconds), String(step.attempts),
                   step.approvedBy ?? step.deniedBy.map { "denied by \($0)" } ?? "", step.error ?? ""]
              })
        body += "</section>\n"

        body += #"<section id="approvals"><h2>Approvals</h2>"#
        if evidence.approvals.isEmpty { body += "<p>No approvals were requested.</p>" } else {
            table("approvals-table", ["Step", "Decision", "By", "Via", "At", "Shown to the approver"],
                  evidence.approvals.map { [$0.stepId, $0.decision, $0.by, $0.via, ReportText.date($0.at), $0.shown] })
        }
        body += "</section>\n"

        body += #"<section id="compensations"><h2>Compensations</h2>"#
        if evidence.compensations.isEmpty { body += "<p>No step was compensated.</p>" } else {
            table("compensations-table", ["Step", "Action", "Result", "Started", "Ended", "Reason", "Error"],
                  evidence.compensations.map { [$0.stepId, $0.action ?? "", $0.result ?? "not finished", ReportText.date($0.startedAt),
                                                ReportText.date($0.endedAt), $0.reason ?? "", $0.error ?? ""] })
        }
        body += "</section>\n"

        for (id, title, checks) in [("preflight", "Preflight checks", evidence.preflightChecks), ("validations", "Validations", evidence.validations)]
        where !checks.isEmpty {
            body += #"<section id="\#(id)"><h2>\#(title)</h2>"#
            table("\(id)-table", ["Check", "Result", "Detail"], checks.map { [$0.name, $0.result, $0.detail] })
            body += "</section>\n"
        }

        body += #"<section id="transitions"><h2>Run transitions</h2>"#
        table("transitions-table", ["At", "From", "To", "Reason"], evidence.transitions.map { [ReportText.date($0.at), $0.from ?? "", $0.to, $0.reason ?? ""] })
        body += "</section>\n"
        body += "<footer>Generated by \(esc(generator)) from the journal of run \(esc(evidence.runId)) (\(evidence.journalEntries) entries).</footer>\n"

        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Evidence: \(esc(evidence.mode)) \(esc(evidence.runId)) — \(esc(evidence.status.rawValue))</title>
            <style>\(style)</style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
    }

    private static func card(_ title: String, verdict: BudgetVerdict, text: String) -> String {
        #"<div class="card verdict-\#(TimelineChart.cssName(verdict.rawValue))"><h3>\#(title): \#(ReportText.html(ReportText.verdict(verdict)))</h3><p>\#(ReportText.html(text))</p></div>"#
    }

    /// System fonts only: a report must not fetch anything to be read.
    static let style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1040px;color:#1f2328;background:#fff;padding:0 1rem}
        h1{font-size:1.5rem}h2{font-size:1.15rem;border-bottom:1px solid #d0d7de;padding-bottom:.25rem;margin-top:2rem}h3{font-size:1rem;margin:0 0 .4rem}
        code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
        table{border-collapse:collapse;width:100%;font-size:.85rem}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top;white-space:pre-wrap}
        th{background:#f6f8fa}
        .cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #d0d7de;border-left:6px solid #8c959f;border-radius:6px;padding:.6rem .9rem;flex:1;min-width:240px}
        .card p{margin:0}.verdict-within{border-left-color:#2e7d32}.verdict-over{border-left-color:#c62828}.verdict-accepted{border-left-color:#ef6c00}
        .status{font-weight:600;padding:.1rem .5rem;border-radius:4px;background:#eaeef2}.status-succeeded{background:#dafbe1}.status-failed,.status-aborted{background:#ffebe9}
        svg{display:block;max-width:100%;height:auto;font-size:12px}
        svg .grid{stroke:#eaeef2;stroke-width:1}svg .tick,svg .label,svg .not-run{fill:#57606a}svg .not-run{font-style:italic}
        .result-succeeded{fill:#2e7d32;background:#2e7d32}.result-failed{fill:#c62828;background:#c62828}.result-compensated{fill:#ef6c00;background:#ef6c00}
        .result-skipped,.result-pending{fill:#9e9e9e;background:#9e9e9e}.result-unknown{fill:#6a1b9a;background:#6a1b9a}
        .result-running,.result-waiting{fill:#f9a825;background:#f9a825}
        svg .marker{stroke-width:2}svg .rto-budget,svg .rpo-budget{stroke:#c62828;fill:#c62828}svg .rto-forecast{stroke:#57606a;fill:#57606a;stroke-dasharray:5 4}
        svg .rto-measured{stroke:#0969da;fill:#0969da}svg .track{fill:#eaeef2}
        svg .verdict-within{fill:#2e7d32}svg .verdict-over{fill:#c62828}svg .verdict-unknown,svg .verdict-no-budget{fill:#8c959f}
        .legend{font-size:.8rem;color:#57606a}.swatch{display:inline-block;width:.8rem;height:.8rem;margin:0 .25rem 0 .6rem;vertical-align:middle;border-radius:2px}
        .line{display:inline-block;width:1.2rem;height:0;border-top:2px solid;margin:0 .25rem 0 .6rem;vertical-align:middle}
        .line.rto-budget{border-color:#c62828}.line.rto-forecast{border-color:#57606a;border-top-style:dashed}.line.rto-measured{border-color:#0969da}
        footer{margin-top:2rem;font-size:.8rem;color:#57606a}
        @media print{body{margin:0}}
        """
}
