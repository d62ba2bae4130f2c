import Foundation

extension RunHistory {
    public static let jsonSchema = "drctl.history/v1"

    public var json: ReportJSON {
        func spread(_ spread: Spread?) -> ReportJSON {
            guard let spread else { return .null }
            return .object(["min_seconds": .seconds(spread.min), "median_seconds": .seconds(spread.median),
                            "max_seconds": .seconds(spread.max), "count": .int(spread.count)])
        }
        return .object([
            "schema": .string(Self.jsonSchema), "plan": .optional(plan), "since": .optional(since),
            "rto_trend": .string(rtoTrend.rawValue), "rpo_trend": .string(rpoTrend.rawValue),
            "runs": .array(runIds.map(ReportJSON.string)),
            "quarters": .array(quarters.map { quarter in
                .object([
                    "quarter": .string(quarter.name), "runs": .int(quarter.runs), "succeeded": .int(quarter.succeeded),
                    "drills": .int(quarter.drills), "success_rate": .number((quarter.successRate * 1000).rounded() / 1000),
                    "rto": spread(quarter.rto), "rto_over_budget": .int(quarter.rtoOverBudget),
                    "rpo": spread(quarter.rpo), "rpo_over_budget": .int(quarter.rpoOverBudget),
                ])
            }),
        ])
    }

    private var rows: [[String]] {
        quarters.map { quarter in
            let spread = { (spread: Spread?) in
                spread.map { "\(DurationText.format($0.min)) / \(DurationText.format($0.median)) / \(DurationText.format($0.max))" } ?? "—"
            }
            return [quarter.name, String(quarter.runs), String(quarter.drills), "\(Int((quarter.successRate * 100).rounded()))%",
                    spread(quarter.rto), String(quarter.rtoOverBudget), spread(quarter.rpo), String(quarter.rpoOverBudget)]
        }
    }

    private static let header = ["QUARTER", "RUNS", "DRILLS", "SUCCESS", "RTO MIN/MEDIAN/MAX", "RTO OVER", "RPO MIN/MEDIAN/MAX", "RPO OVER"]

    private var scope: String {
        var text = plan.map { "plan \($0)" } ?? "all plans"
        if let since { text += " since \(ReportTime.readable(since))" }
        return text
    }

    /// Plain text with aligned columns, for the terminal.
    public func text() -> String {
        var lines = ["RTO/RPO history (\(scope)): \(runIds.count) failovers, switchovers and drills"]
        guard !quarters.isEmpty else { return (lines + ["No finished failover, switchover or drill matches."]).joined(separator: "\n") + "\n" }
        let table = [Self.header] + rows
        let widths = Self.header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        for row in table {
            lines.append(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces))
        }
        lines.append("RTO trend: \(rtoTrend.rawValue); RPO trend: \(rpoTrend.rawValue)")
        return lines.joined(separator: "\n") + "\n"
    }

    public func markdown() -> String {
        var lines = ["# RTO/RPO history", "", "Scope: \(ReportText.markdownCell(scope)); \(runIds.count) failovers, switchovers and drills.", ""]
        if quarters.isEmpty {
            lines.append("No finished failover, switchover or drill matches.")
        } else {
            let header = ["Quarter", "Runs", "Drills", "Success", "RTO min / median / max", "RTO over budget", "RPO min / median / max", "RPO over budget"]
            lines.append("| " + header.joined(separator: " | ") + " |")
            lines.append("|" + header.map { _ in "---" }.joined(separator: "|") + "|")
            for row in rows { lines.append("| " + row.map(ReportText.markdownCell).joined(separator: " | ") + " |") }
            lines += ["", "- **RTO trend**: \(rtoTrend.rawValue)", "- **RPO trend**: \(rpoTrend.rawValue)"]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
