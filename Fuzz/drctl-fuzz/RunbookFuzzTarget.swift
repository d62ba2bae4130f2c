import DRCore

/// The YAML runbook loader. Whatever the bytes: an error names a line and column inside the file
/// (or just past its end) and says what it found; an accepted runbook holds what the engine trusts
/// (unique ids, known `needs`, no cycle, durations in range) and survives what `drctl plan` does
/// with it (waves, the RTO forecast, durations shown as text, constant arguments evaluated).
enum RunbookFuzzTarget {
    static let target = FuzzTarget(name: "runbook") { bytes in
        do throws(RunbookValidationError) {
            let runbook = try RunbookLoader.parse(bytes: bytes, path: "fuzz.yaml", catalog: ActionCatalogs.full)
            checkAccepted(runbook)
        } catch {
            requireLocated(error, in: bytes)
        }
    }

    static func checkAccepted(_ runbook: Runbook) {
        let ids = runbook.steps.map(\.id)
        require(Set(ids).count == ids.count, "accepted duplicate step ids")
        require(!runbook.steps.isEmpty, "accepted a runbook without steps")
        for step in runbook.steps {
            for need in step.needs { require(ids.contains(need), "step \(step.id) needs unknown \(need)") }
            require(ActionCatalogs.fullNames.contains(step.call.action), "accepted unknown action \(step.call.action)")
            requireDurationInRange(step.timeout, "timeout of \(step.id)")
            requireDurationInRange(step.estimate, "estimate of \(step.id)")
            requireDurationInRange(step.retry.backoff, "retry backoff of \(step.id)")
            requireDurationInRange(step.retry.maxBackoff, "retry max backoff of \(step.id)")
            require(step.retry.attempts >= 1 && step.retry.attempts <= 1000, "accepted \(step.retry.attempts) attempts")
            require(step.location.line >= 1 && step.location.column >= 1, "step \(step.id) has no location")
        }
        requireDurationInRange(runbook.budgets.rpo, "budgets.rpo")
        requireDurationInRange(runbook.budgets.rto, "budgets.rto")

        // What `drctl plan` computes: every step lands in exactly one wave, after what it needs.
        let waves = RTOForecast.parallelGroups(runbook.steps)
        require(waves.flatMap { $0 }.sorted() == ids.sorted(), "waves do not hold every step once (a cycle accepted?)")
        var waveOf: [String: Int] = [:]
        for (index, wave) in waves.enumerated() { for id in wave { waveOf[id] = index } }
        for step in runbook.steps {
            for need in step.needs { require(waveOf[need]! < waveOf[step.id]!, "\(step.id) runs no later than \(need), which it needs") }
        }
        let estimates = Dictionary(runbook.steps.compactMap { step in step.estimate.map { (step.id, $0) } }) { first, _ in first }
        let forecast = RTOForecast.remainingCriticalPath(steps: runbook.steps, estimates: estimates, finished: [])
        require(forecast.isFinite && forecast >= 0, "RTO forecast \(forecast)")
        for seconds in [forecast, runbook.budgets.rpo, runbook.budgets.rto].compactMap({ $0 }) + runbook.steps.compactMap(\.timeout) {
            _ = DurationText.format(seconds)
        }
        // Arguments that need nothing from a run are evaluated as `drctl plan` shows them.
        let context = EvaluationContext(inputs: Dictionary(runbook.inputs.compactMap { input in input.defaultValue.map { (input.name, $0) } }) { a, _ in a })
        for step in runbook.steps {
            for template in step.call.with.values where template.references.isEmpty { _ = try? template.evaluate(context) }
            _ = try? step.when?.evaluate(context)
        }
    }
}

/// The checks every located loader error must pass: at least one problem, each inside the file.
func requireLocated(_ error: RunbookValidationError, in bytes: [UInt8]) {
    require(!error.problems.isEmpty, "an error without problems")
    // Lines as libyaml counts them: "\r\n", "\r", "\n", NEL, LS and PS each end one.
    var lines = 1
    var previous: Unicode.Scalar = " "
    for scalar in text(bytes).unicodeScalars {
        if ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains(scalar) && !(scalar == "\n" && previous == "\r") { lines += 1 }
        previous = scalar
    }
    for problem in error.problems {
        let location = problem.location
        require(location.line >= 1 && location.line <= lines + 1, "problem at line \(location.line) of a \(lines)-line file: \(problem)")
        require(location.column >= 1, "problem at column \(location.column): \(problem)")
        require(problem.message.contains("expected"), "problem that does not say what was expected: \(problem)")
    }
}
