import Foundation

/// The inline SVG charts of the HTML report: the steps on a time axis against the RTO budget and
/// forecast, and the RPO figure against its budget. Plain strings, no scripts, no external
/// resources; every text is escaped.
public enum TimelineChart {
    static let width = 1000.0
    static let labelWidth = 190.0
    static let rightMargin = 30.0
    static let top = 48.0
    /// Step ids longer than this are shortened in the label (the full id is its tooltip and in the table).
    static let labelCharacters = 28
    static let rowHeight = 26.0
    static let barHeight = 16.0

    /// A step's bar in seconds from the run's start.
    struct Bar: Equatable {
        var step: String
        var result: String
        var start: Double
        var end: Double
    }

    static func bars(_ evidence: RunEvidence) -> [Bar] {
        let origin = evidence.startedAt
        let fallbackEnd = evidence.endedAt ?? evidence.steps.compactMap { $0.endedAt ?? $0.startedAt }.max()
        return evidence.steps.compactMap { step in
            guard let started = step.startedAt else { return nil }
            let start = max(0, started.timeIntervalSince(origin))
            let end = max(start, ((step.endedAt ?? fallbackEnd) ?? started).timeIntervalSince(origin))
            return Bar(step: step.id, result: step.result, start: start, end: end)
        }
    }

    /// The axis: zoomed to the run. The forecast and the budget are on it unless they are so far
    /// out (more than 4× what ran) that the bars would shrink to slivers — a 19 s drill on its
    /// 44-minute forecast; such a marker is written at the edge instead.
    static func axisSeconds(_ evidence: RunEvidence, bars: [Bar]) -> (span: Double, forecastOnAxis: Bool, budgetOnAxis: Bool) {
        let ran = max(evidence.rto.measuredSeconds ?? 0, bars.map(\.end).max() ?? 0)
        let near = { (seconds: Double?) in seconds.map { ran == 0 || $0 <= ran * 4 } ?? false }
        let forecastOnAxis = near(evidence.rto.forecastSeconds), budgetOnAxis = near(evidence.rto.budgetSeconds)
        let span = max(ran, forecastOnAxis ? evidence.rto.forecastSeconds! : 0, budgetOnAxis ? evidence.rto.budgetSeconds! : 0, 1)
        return (span * 1.05, forecastOnAxis, budgetOnAxis)
    }

    /// A step id as its row's label: long ones keep their start and end around an ellipsis, so
    /// that the label stays inside the chart (the full id is the label's tooltip).
    static func label(_ id: String) -> String {
        guard id.count > labelCharacters else { return id }
        return String(id.prefix(12)) + "…" + String(id.suffix(labelCharacters - 13))
    }

    public static func timeline(_ evidence: RunEvidence) -> String {
        let esc = ReportText.html
        let bars = bars(evidence)
        let (span, forecastOnAxis, budgetOnAxis) = axisSeconds(evidence, bars: bars)
        let plotWidth = width - labelWidth - rightMargin
        let x = { (seconds: Double) in labelWidth + plotWidth * min(max(seconds / span, 0), 1) }
        // Room under the axis for the three marker labels (RTO, forecast, budget), one line each.
        let height = top + rowHeight * Double(max(evidence.steps.count, 1)) + 60
        var svg = #"<svg id="timeline" role="img" viewBox="0 0 \#(Int(width)) \#(Int(height))" width="\#(Int(width))" height="\#(Int(height))">"#
        svg += "<title>Timeline of run \(esc(evidence.runId)): steps against the RTO budget</title>"

        // Time axis with five ticks.
        let axisBottom = top + rowHeight * Double(max(evidence.steps.count, 1))
        for tick in 0...5 {
            let seconds = span * Double(tick) / 5
            let position = fmt(x(seconds))
            svg += #"<line class="grid" x1="\#(position)" y1="\#(fmt(top - 6))" x2="\#(position)" y2="\#(fmt(axisBottom))"/>"#
            svg += #"<text class="tick" x="\#(position)" y="\#(fmt(top - 12))" text-anchor="middle">\#(esc(tickLabel(seconds, span: span)))</text>"#
        }

        // One row per step; a bar for each step that started.
        for (index, step) in evidence.steps.enumerated() {
            let rowTop = top + rowHeight * Double(index)
            svg += #"<text class="label" x="\#(fmt(labelWidth - 8))" y="\#(fmt(rowTop + rowHeight / 2 + 4))" text-anchor="end"><title>\#(esc(step.id))</title>\#(esc(label(step.id)))</text>"#
            guard let bar = bars.first(where: { $0.step == step.id }) else {
                svg += #"<text class="not-run" x="\#(fmt(labelWidth + 4))" y="\#(fmt(rowTop + rowHeight / 2 + 4))">\#(esc(step.result)) (not run)</text>"#
                continue
            }
            let barX = x(bar.start), barWidth = max(x(bar.end) - barX, 2)
            svg += #"<rect class="bar result-\#(esc(cssName(bar.result)))" data-step="\#(esc(step.id))" x="\#(fmt(barX))" y="\#(fmt(rowTop + (rowHeight - barHeight) / 2))" width="\#(fmt(barWidth))" height="\#(fmt(barHeight))" rx="3">"#
            svg += "<title>\(esc(step.id)) (\(esc(step.action))): \(esc(step.result)), \(esc(ReportText.duration(step.durationSeconds)))\(step.attempts > 1 ? ", \(step.attempts) attempts" : "")</title></rect>"
        }

        // Markers: measured RTO, forecast, budget.
        func marker(_ seconds: Double, _ kind: String, _ text: String, row: Int) {
            let position = fmt(x(seconds))
            svg += #"<line class="marker \#(kind)" x1="\#(position)" y1="\#(fmt(top - 4))" x2="\#(position)" y2="\#(fmt(axisBottom + 6))"/>"#
            let anchor = x(seconds) > width - 160 ? "end" : "start"
            svg += #"<text class="marker-label \#(kind)" x="\#(position)" y="\#(fmt(axisBottom + 18 + Double(row) * 13))" text-anchor="\#(anchor)">\#(esc(text))</text>"#
        }
        // Beyond the axis: at its right edge, above the tick labels, one line each.
        var edgeLines = 0
        func atEdge(_ kind: String, _ text: String) {
            svg += #"<text class="marker-label \#(kind)" x="\#(fmt(width - 4))" y="\#(fmt(14 + Double(edgeLines) * 13))" text-anchor="end">\#(esc(text)) → (beyond this axis)</text>"#
            edgeLines += 1
        }
        if let measured = evidence.rto.measuredSeconds { marker(measured, "rto-measured", "RTO \(DurationText.format(measured))", row: 0) }
        if let forecast = evidence.rto.forecastSeconds {
            if forecastOnAxis { marker(forecast, "rto-forecast", "forecast \(DurationText.format(forecast))", row: 1) }
            else { atEdge("rto-forecast", "forecast \(DurationText.format(forecast))") }
        }
        if let budget = evidence.rto.budgetSeconds {
            if budgetOnAxis { marker(budget, "rto-budget", "RTO budget \(DurationText.format(budget))", row: 2) }
            else { atEdge("rto-budget", "RTO budget \(DurationText.format(budget))") }
        }
        return svg + "</svg>"
    }

    /// The RPO figure (measured, else expected) as a bar against the budget.
    public static func rpo(_ evidence: RunEvidence) -> String {
        let esc = ReportText.html
        let rpo = evidence.rpo
        let height = 70.0
        var svg = #"<svg id="rpo-chart" role="img" viewBox="0 0 \#(Int(width)) \#(Int(height))" width="\#(Int(width))" height="\#(Int(height))">"#
        svg += "<title>RPO of run \(esc(evidence.runId)) against its budget</title>"
        guard let figure = rpo.decisiveSeconds else {
            return svg + #"<text class="not-run" x="\#(fmt(labelWidth))" y="30">No data-loss figure was recorded for this run.</text></svg>"#
        }
        let span = max(figure, rpo.budgetSeconds ?? 0, rpo.expectedSeconds ?? 0, 1) * 1.1
        let plotWidth = width - labelWidth - rightMargin
        let x = { (seconds: Double) in labelWidth + plotWidth * min(max(seconds / span, 0), 1) }
        let verdict = cssName(rpo.verdict.rawValue)
        svg += #"<text class="label" x="\#(fmt(labelWidth - 8))" y="29" text-anchor="end">RPO (\#(esc(rpo.source ?? "")))</text>"#
        svg += #"<rect class="track" x="\#(fmt(labelWidth))" y="16" width="\#(fmt(plotWidth))" height="18" rx="3"/>"#
        svg += #"<rect class="rpo-bar verdict-\#(verdict)" x="\#(fmt(labelWidth))" y="16" width="\#(fmt(max(x(figure) - labelWidth, 2)))" height="18" rx="3"><title>\#(esc(ReportText.rpo(rpo)))</title></rect>"#
        svg += #"<text class="marker-label" x="\#(fmt(labelWidth + 4))" y="52">\#(esc(rpo.source ?? "")) \#(esc(DurationText.format(figure)))</text>"#
        if let budget = rpo.budgetSeconds {
            let position = fmt(x(budget))
            svg += #"<line class="marker rpo-budget" x1="\#(position)" y1="10" x2="\#(position)" y2="40"/>"#
            svg += #"<text class="marker-label rpo-budget" x="\#(position)" y="52" text-anchor="\#(x(budget) > width - 160 ? "end" : "middle")">RPO budget \#(esc(DurationText.format(budget)))</text>"#
        }
        return svg + "</svg>"
    }

    /// Results become class names: letters, digits and dashes only.
    static func cssName(_ text: String) -> String {
        String(text.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
    }

    /// Short axes need fractions ("1.2s"); longer ones read better as durations ("1h30m").
    static func tickLabel(_ seconds: Double, span: Double) -> String {
        if seconds == 0 { return "0s" }
        return span < 20 ? String(format: "%.1fs", seconds) : DurationText.format(seconds)
    }

    static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }
}
