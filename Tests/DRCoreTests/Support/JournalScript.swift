import DRCore
import Foundation

/// Hand-built runs for the report tests: a record and a journal written entry by entry at chosen
/// seconds after `start`, the way the engine would have journaled them.
struct JournalScript {
    static let runbookText = """
        name: evidence-tour
        budgets: { rpo: 1h, rto: 2m }
        steps:
          - { id: fence, action: exec, with: { command: "true" }, estimate: 10s }
          - { id: go-ahead, action: approve, needs: [fence], with: { summary: promote the replica, irreversible: true, resource: us-west-2 } }
          - { id: promote, action: exec, needs: [go-ahead], with: { command: "true" }, estimate: 60s }
          - { id: dns, action: exec, needs: [promote], with: { command: "true" }, estimate: 20s }

        """

    var record: RunRecord
    var entries: [JournalEntry] = []
    let start: Date

    init(id: String = "run-20260401-120000-abcdef", mode: String = "failover", start: Date = Date(timeIntervalSince1970: 1_775_044_800),
         runbookText: String = JournalScript.runbookText, lockScope: String = "plan:orders") {
        self.start = start
        record = RunRecord(id: id, runbookName: "evidence-tour", runbookPath: "/plans/evidence-tour.yaml", runbookDigest: String(repeating: "ab", count: 32),
                           runbookText: runbookText, inputs: [:], status: .running, createdAt: start, updatedAt: start,
                           startedBy: "alice", host: "ops-1", mode: mode, lockScope: lockScope)
    }

    var runbook: Runbook { try! RunbookLoader.parse(text: record.runbookText, path: record.runbookPath) }

    mutating func add(_ seconds: Double, _ kind: JournalKind, step: String? = nil, attempt: Int? = nil, _ detail: [String: RunValue] = [:]) {
        entries.append(JournalEntry(runId: record.id, sequence: Int64(entries.count + 1), at: start.addingTimeInterval(seconds),
                                    kind: kind, stepId: step, attempt: attempt, detail: detail))
    }

    mutating func run(_ seconds: Double, from: RunStatus?, to: RunStatus, reason: String = "test") {
        var detail: [String: RunValue] = ["to": .string(to.rawValue), "reason": .string(reason)]
        if let from { detail["from"] = .string(from.rawValue) }
        add(seconds, .runStatus, detail)
        record.status = to
    }

    mutating func step(_ id: String, _ seconds: Double, _ from: String, _ to: String, attempt: Int = 1, error: String? = nil) {
        var detail: [String: RunValue] = ["from": .string(from), "to": .string(to)]
        if let error { detail["error"] = .string(error) }
        add(seconds, .stepStatus, step: id, attempt: attempt, detail)
    }

    /// A step that ran from `start` to `end` seconds and succeeded.
    mutating func succeed(_ id: String, from start: Double, to end: Double) {
        step(id, start, "pending", "running")
        add(start, .intent, step: id, attempt: 1, ["action": .string("exec"), "summary": .string("run a command")])
        add(end, .outcome, step: id, attempt: 1, ["result": .string("succeeded")])
        step(id, end, "running", "succeeded")
    }

    func evidence(withRunbook: Bool = true) -> RunEvidence {
        RunEvidence(record: record, journal: entries, runbook: withRunbook ? runbook : nil)
    }

    /// A finished failover of the tour runbook: preflight at 0s, running at 5s, done at `end`.
    static func failover(id: String = "run-20260401-120000-abcdef", start: Date = Date(timeIntervalSince1970: 1_775_044_800), end: Double = 95,
                         status: RunStatus = .succeeded, expectedLoss: Double? = 30, mode: String = "failover") -> JournalScript {
        var script = JournalScript(id: id, mode: mode, start: start)
        script.add(0, .note, ["event": .string("preflight"), "plan": .string("orders"), "from": .string("us-east-1"), "to": .string("us-west-2"),
                              "expected_data_loss": expectedLoss.map { .duration($0) } ?? .null,
                              "checks": .list([.map(["name": .string("identity in us-west-2"), "ok": .bool(true), "detail": .string("arn:aws:iam::1:user/a")])])])
        script.run(5, from: nil, to: .running)
        script.succeed("fence", from: 5, to: 10)
        script.step("go-ahead", 10, "pending", "running")
        script.add(11, .approval, step: "go-ahead", ["shown": .string("Step go-ahead: promote the replica"), "by": .string("bob"),
                                                     "decision": .string("approved"), "via": .string("terminal")])
        script.step("go-ahead", 11, "running", "succeeded")
        script.succeed("promote", from: 11, to: end - 10)
        script.succeed("dns", from: end - 10, to: end)
        script.run(end, from: .running, to: status)
        return script
    }
}
