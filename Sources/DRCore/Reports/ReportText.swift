import Foundation

/// Wording and escaping shared by the Markdown, HTML and text reports.
public enum ReportText {
    public static func duration(_ seconds: Double?) -> String { seconds.map(DurationText.format) ?? "—" }

    public static func date(_ date: Date?) -> String { date.map(ReportTime.readable) ?? "—" }

    public static func verdict(_ verdict: BudgetVerdict) -> String {
        switch verdict {
        case .within: return "within budget"
        case .over: return "OVER BUDGET"
        case .unknown: return "not measured"
        case .noBudget: return "no budget set"
        }
    }

    /// "3m12s of a 4h budget — within budget".
    public static func rto(_ rto: RTOEvidence, verdict withVerdict: Bool = true) -> String {
        var text = rto.measuredSeconds.map { "\(DurationText.format($0)) measured" } ?? "not finished"
        if let budget = rto.budgetSeconds { text += " of a \(DurationText.format(budget)) budget" }
        if let forecast = rto.forecastSeconds { text += " (forecast \(DurationText.format(forecast)))" }
        return withVerdict ? text + " — " + verdict(rto.verdict) : text
    }

    public static func rpo(_ rpo: RPOEvidence, verdict withVerdict: Bool = true) -> String {
        var parts: [String] = []
        if let measured = rpo.measuredSeconds { parts.append("\(DurationText.format(measured)) measured") }
        if let expected = rpo.expectedSeconds { parts.append("\(DurationText.format(expected)) expected") }
        var text = parts.isEmpty ? "no data-loss figure recorded" : parts.joined(separator: ", ")
        if let budget = rpo.budgetSeconds { text += parts.isEmpty ? " (budget \(DurationText.format(budget)))" : " of a \(DurationText.format(budget)) budget" }
        return withVerdict ? text + " — " + verdict(rpo.verdict) : text
    }

    public static func acceptance(_ acceptance: DataLossAcceptance) -> String {
        var text = "up to \(duration(acceptance.acceptedSeconds)) accepted by \(acceptance.by) at \(date(acceptance.at))"
        text += " (expected \(duration(acceptance.expectedSeconds)), budget \(duration(acceptance.budgetSeconds)))"
        return text
    }

    /// One Markdown table cell: no line breaks, pipes and Markdown/HTML syntax made literal.
    public static func markdownCell(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\n", "\r\n": out += "<br>"
            case "\r": break
            case "|", "\\", "`", "*", "_", "[", "]", "#": out += "\\" + String(character)
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            default: out.append(character)
            }
        }
        return out.isEmpty ? " " : out
    }

    /// Text for HTML element content and attribute values (quotes included).
    public static func html(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case let c where c.value < 0x20 && c != "\n" && c != "\t": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
