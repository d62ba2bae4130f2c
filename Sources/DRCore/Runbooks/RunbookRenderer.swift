import Foundation

/// A `Runbook` value as YAML text, for `--print-runbook`, saving, and the text a run pins for
/// `drctl resume`. Generated runbooks are built as values; this is the only place they become text.
///
/// The promise: `RunbookLoader.parse` reads the text back as an equal runbook (source and step
/// locations aside) — every field, `${{ }}` expressions included — and the same value always gives
/// the same bytes (fields in a fixed order, map keys sorted, steps and inputs in their order).
/// Strings are quoted wherever a reader could take them for something else (see `YAMLText`).
///
/// Values only code can make have no exact YAML spelling: a `.duration` nested in a list, map or
/// input of type `any` reads back as its text ("90s"), a non-finite number as a string. They
/// evaluate alike; `RunbookLoader` is the judge.
public enum RunbookRenderer {
    public static func render(_ runbook: Runbook) -> String {
        var out = YAMLWriter()
        out.line(0, "name: \(YAMLText.scalar(runbook.name))")
        if !runbook.description.isEmpty { out.line(0, "description: \(YAMLText.scalar(runbook.description))") }
        if !runbook.inputs.isEmpty {
            out.line(0, "inputs:")
            for input in runbook.inputs {
                out.key(1, input.name)
                out.line(2, "type: \(input.type.rawValue)")
                if let value = input.defaultValue { out.value(2, "default", value) }
                if !input.description.isEmpty { out.line(2, "description: \(YAMLText.scalar(input.description))") }
            }
        }
        if runbook.budgets.rpo != nil || runbook.budgets.rto != nil {
            out.line(0, "budgets:")
            if let rpo = runbook.budgets.rpo { out.line(1, "rpo: \(duration(rpo))") }
            if let rto = runbook.budgets.rto { out.line(1, "rto: \(duration(rto))") }
        }
        out.line(0, "steps:")
        for step in runbook.steps { renderStep(step, into: &out) }
        if !runbook.outputs.isEmpty {
            out.line(0, "outputs:")
            for name in runbook.outputs.keys.sorted() { out.template(1, name, runbook.outputs[name]!) }
        }
        return out.text
    }

    /// The text, and the runbook pinned to it (`source`: the path given and the digest of the
    /// text), as a run records both.
    public static func pinned(_ runbook: Runbook, path: String) -> (text: String, runbook: Runbook) {
        let text = render(runbook)
        var pinned = runbook
        pinned.source = RunbookSource(path: path, digest: Hex.encode(SHA256Digest.hash(Array(text.utf8))))
        return (text, pinned)
    }

    private static func renderStep(_ step: RunbookStep, into out: inout YAMLWriter) {
        out.line(1, "- id: \(YAMLText.scalar(step.id))")
        // Fields under the dash, two columns in (the dash and its space).
        if !step.description.isEmpty { out.line(2, "description: \(YAMLText.scalar(step.description))") }
        out.line(2, "action: \(YAMLText.scalar(step.call.action))")
        if !step.needs.isEmpty { out.line(2, "needs: [\(step.needs.map(YAMLText.scalar).joined(separator: ", "))]") }
        if let when = step.when {
            // A YAML boolean is how a constant condition reads back as the same literal.
            if case .literal(.bool(let flag)) = when {
                out.line(2, "when: \(flag)")
            } else {
                out.line(2, "when: \(YAMLText.scalar(Template.embed(when)))")
            }
        }
        renderArguments(step.call.with, indent: 2, into: &out)
        if let timeout = step.timeout { out.line(2, "timeout: \(duration(timeout))") }
        if step.retry != StepRetryPolicy() {
            out.line(2, "retry:")
            out.line(3, "attempts: \(step.retry.attempts)")
            out.line(3, "backoff: \(duration(step.retry.backoff))")
            out.line(3, "max_backoff: \(duration(step.retry.maxBackoff))")
            if !step.retry.on.isEmpty { out.line(3, "on: [\(step.retry.on.map(YAMLText.scalar).joined(separator: ", "))]") }
        }
        if let estimate = step.estimate { out.line(2, "estimate: \(duration(estimate))") }
        if step.onFailure != .abort { out.line(2, "on_failure: \(step.onFailure.rawValue)") }
        if let compensate = step.compensate {
            out.line(2, "compensate:")
            renderCall(compensate, indent: 3, into: &out)
        }
    }

    private static func renderCall(_ call: ActionCall, indent: Int, into out: inout YAMLWriter) {
        out.line(indent, "action: \(YAMLText.scalar(call.action))")
        renderArguments(call.with, indent: indent, into: &out)
    }

    private static func renderArguments(_ arguments: [String: Template], indent: Int, into out: inout YAMLWriter) {
        guard !arguments.isEmpty else { return }
        out.line(indent, "with:")
        for name in arguments.keys.sorted() { out.template(indent + 1, name, arguments[name]!) }
    }

    /// `DurationText.format` where it reads back as the same seconds ("1h30m", "250ms"); otherwise
    /// (1.5 s, which it rounds) the seconds as a plain decimal, which every duration field takes.
    static func duration(_ seconds: Double) -> String {
        let text = DurationText.format(seconds)
        if DurationText.parse(text) == seconds { return text }
        guard seconds.isFinite else { return YAMLText.scalar(text) }
        return decimal(seconds)
    }

    /// Swift's shortest round-trip digits without an exponent ("1e-05" → "0.00001"): durations
    /// are read as digits and one dot.
    static func decimal(_ number: Double) -> String {
        let text = String(number)
        guard let e = text.firstIndex(of: "e") else { return text }
        let negative = text.hasPrefix("-")
        let mantissa = text[text.index(text.startIndex, offsetBy: negative ? 1 : 0)..<e]
        let exponent = Int(text[text.index(after: e)...])!
        let dot = mantissa.firstIndex(of: ".")
        let digits = mantissa.filter { $0 != "." }
        let pointAt = (dot.map { mantissa.distance(from: mantissa.startIndex, to: $0) } ?? mantissa.count) + exponent
        let body: String
        if pointAt <= 0 {
            body = "0." + String(repeating: "0", count: -pointAt) + digits
        } else if pointAt >= digits.count {
            body = digits + String(repeating: "0", count: pointAt - digits.count) + ".0"
        } else {
            body = String(digits.prefix(pointAt)) + "." + String(digits.dropFirst(pointAt))
        }
        return (negative ? "-" : "") + body
    }
}
