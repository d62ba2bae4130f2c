import DRCore
import Foundation

/// `--render STEPS`: a generated-failover-shaped runbook of STEPS steps built as a value (fence →
/// promote → check per database, one closing step that needs every check), rendered to YAML and
/// loaded back with the limits of text drctl stored itself — what `--print-runbook` and
/// `drctl resume` of a generated runbook cost.
func renderBench(steps stepCount: Int) throws {
    let databases = max(1, stepCount / 3)
    func clock<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = ContinuousClock.now
        let value = try body()
        return (value, seconds(ContinuousClock.now - start))
    }
    let (runbook, built) = clock { () -> Runbook in
        var steps: [RunbookStep] = []
        for index in 0..<databases {
            let db = "orders-db-\(index)"
            steps.append(.make(id: "fence-\(index)", action: "exec",
                               with: ["command": .string("fence \(db) --reason \"failover to us-west-2\""), "timeout": .duration(300)],
                               timeout: 600, retry: StepRetryPolicy(attempts: 3, backoff: 5, on: ["transient", "throttling"]),
                               estimate: 60, description: "stop writes on \(db) in us-east-1"))
            steps.append(.make(id: "promote-\(index)", action: "notify",
                               templates: ["message": Template(parts: [.text("promote \(db) after fence "),
                                                                      .expression(.reference(["steps", "fence-\(index)", "status"]))])],
                               needs: ["fence-\(index)"], timeout: 3600, estimate: 600))
            steps.append(.make(id: "check-\(index)", action: "check",
                               templates: ["that": .expression(.binary(.equal, .reference(["steps", "promote-\(index)", "status"]),
                                                                       .literal(.string("succeeded"))))],
                               needs: ["promote-\(index)"], onFailure: .continue))
        }
        steps.append(.make(id: "summary", action: "notify", with: ["message": .string("failover of \(databases) databases done")],
                           needs: (0..<databases).map { "check-\($0)" }))
        return Runbook(name: "failover-bench-to-us-west-2", description: "Fail over \(databases) databases from us-east-1 to us-west-2",
                       budgets: RunbookBudgets(rpo: 3600, rto: 4 * 3600), steps: steps, source: RunbookSource(path: "", digest: ""))
    }
    let (text, rendered) = clock { RunbookRenderer.render(runbook) }
    let (again, renderedAgain) = clock { RunbookRenderer.render(runbook) }
    let (loaded, parsed) = try clock { try RunbookLoader.parse(text: text, path: "generated:bench.yaml", limits: .stored) }
    var stripped = loaded
    stripped.source = runbook.source
    for index in stripped.steps.indices { stripped.steps[index].location = FileLocation() }
    print("render bench: \(runbook.steps.count) steps (\(databases) databases: fence → promote → check, + summary)")
    print("  build as values: \(String(format: "%.3f", built)) s")
    print("  render: \(String(format: "%.3f", rendered)) s (again: \(String(format: "%.3f", renderedAgain)) s, same bytes: \(again == text)), \(text.utf8.count) bytes (\(String(format: "%.1f", Double(text.utf8.count) / 1_048_576)) MiB)")
    print("  load back (RunbookLoader.Limits.stored): \(String(format: "%.3f", parsed)) s, equal: \(stripped == runbook)")
    print("  peak memory (VmHWM): \(String(format: "%.1f", peakMemoryMiB())) MiB")
}
