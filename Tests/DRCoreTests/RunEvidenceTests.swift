import DRCore
import Foundation
import Testing

@Suite("Run evidence")
struct RunEvidenceTests {
    @Test func rtoIsMeasuredFromFirstRunningToFinalStatusAndJudgedAgainstTheBudget() {
        let within = JournalScript.failover(end: 95).evidence()
        // The preflight note at 0s is before the clock starts at the `running` transition (5s).
        #expect(within.startedAt == Date(timeIntervalSince1970: 1_775_044_805))
        #expect(within.rto.measuredSeconds == 90)
        #expect(within.rto.budgetSeconds == 120)
        #expect(within.rto.verdict == .within)
        // The critical path of the estimates: 10s + 0 + 60s + 20s.
        #expect(within.rto.forecastSeconds == 90)

        let over = JournalScript.failover(end: 200).evidence()
        #expect(over.rto.measuredSeconds == 195)
        #expect(over.rto.verdict == .over)
    }

    /// Issue 16, defect 6: a drill holds `drill:NAME` (not `plan:NAME`) and writes no preflight
    /// note; its evidence still names the plan, so the plan's history counts it.
    @Test func aDrillsEvidenceNamesItsPlanFromTheDrillLock() {
        var script = JournalScript(mode: "drill", lockScope: "drill:orders")
        script.run(0, from: nil, to: .running)
        script.succeed("fence", from: 0, to: 10)
        script.run(20, from: .running, to: .succeeded)
        let evidence = script.evidence()
        #expect(evidence.plan == "orders")
        #expect(RunHistory(evidence: [evidence], plan: "orders").quarters.first?.drills == 1)
        // Also from the drill's first note, whatever the lock scope.
        var noted = JournalScript(mode: "drill", lockScope: "something-else")
        noted.add(0, .note, ["event": .string("drill-started"), "plan": .string("orders")])
        noted.run(0, from: nil, to: .running)
        noted.run(20, from: .running, to: .succeeded)
        #expect(noted.evidence().plan == "orders")
    }

    /// Issue 16, defect 10: a drill's RTO in its report is the one its summary printed (start →
    /// copy validated), not start → teardown done; a drill that never validated has none.
    @Test func aDrillsRTOIsItsSummarysStartToValidated() {
        var script = JournalScript(mode: "drill", lockScope: "drill:orders")
        script.run(0, from: nil, to: .running)
        script.succeed("restore-orders", from: 0, to: 40)
        script.add(900, .note, ["event": .string("drill-summary"), "rto": .duration(45), "validation_passed": .bool(true)])
        script.run(900, from: .running, to: .succeeded)
        #expect(script.evidence().rto.measuredSeconds == 45)
        var failed = JournalScript(mode: "drill", lockScope: "drill:orders")
        failed.run(0, from: nil, to: .running)
        failed.add(300, .note, ["event": .string("drill-summary"), "rto": .null])
        failed.run(300, from: .running, to: .failed)
        #expect(failed.evidence().rto.measuredSeconds == nil)
    }

    /// Issue 16, defect 10: a preflight warning (a check that does not stop the move) is a warning
    /// in the evidence, not FAILED; journals from before `blocking` was kept still read as before.
    @Test func aPreflightWarningIsAWarningInTheEvidence() {
        var script = JournalScript.failover()
        script.entries.removeAll { $0.detail["event"]?.stringValue == "preflight" }
        script.add(0, .note, ["event": .string("preflight"), "plan": .string("orders"), "checks": .list([
            .map(["name": .string("zone"), "ok": .bool(false), "detail": .string("looked up later"), "blocking": .bool(false)]),
            .map(["name": .string("replica"), "ok": .bool(false), "detail": .string("gone")]),
        ])])
        let checks = script.evidence().preflightChecks
        #expect(checks.map(\.result) == ["warning", "FAILED"])
        let markdown = EvidenceMarkdown.render(script.evidence())
        #expect(markdown.contains("| zone | warning |"))
    }

    @Test func unfinishedRunHasNoMeasuredRTO() {
        var script = JournalScript.failover()
        script.entries.removeLast()   // the final run.status
        script.record.status = .running
        let evidence = script.evidence()
        #expect(evidence.endedAt == nil)
        #expect(evidence.rto.measuredSeconds == nil)
        #expect(evidence.rto.verdict == .unknown)
    }

    @Test func rpoUsesTheDrillMeasurementOverTheExpectation() {
        let expectedOnly = JournalScript.failover(expectedLoss: 30).evidence()
        #expect(expectedOnly.rpo.expectedSeconds == 30)
        #expect(expectedOnly.rpo.budgetSeconds == 3600)
        #expect(expectedOnly.rpo.source == "expected")
        #expect(expectedOnly.rpo.verdict == .within)

        var drill = JournalScript.failover(expectedLoss: 30, mode: "drill")
        drill.add(96, .note, ["event": .string("rpo-measured"), "measured_rpo": .duration(7200)])
        let measured = drill.evidence()
        #expect(measured.rpo.measuredSeconds == 7200)
        #expect(measured.rpo.source == "measured")
        #expect(measured.rpo.verdict == .over)

        let none = JournalScript.failover(expectedLoss: nil).evidence()
        #expect(none.rpo.verdict == .unknown)
    }

    @Test func dataLossAcceptanceAndPreflightAreRecorded() {
        var script = JournalScript.failover(expectedLoss: 5400)
        script.add(1, .note, ["event": .string("data-loss-accepted"), "accepted": .duration(7200), "expected": .duration(5400),
                              "budget": .duration(3600), "by": .string("carol")])
        let evidence = script.evidence()
        #expect(evidence.dataLossAcceptance?.acceptedSeconds == 7200)
        #expect(evidence.dataLossAcceptance?.by == "carol")
        #expect(evidence.rpo.verdict == .over)
        #expect(evidence.plan == "orders")
        #expect(evidence.fromRegion == "us-east-1" && evidence.toRegion == "us-west-2")
        #expect(evidence.preflightChecks == [CheckEvidence(name: "identity in us-west-2", ok: true, detail: "arn:aws:iam::1:user/a")])
    }

    @Test func stepsCarryTimesAttemptsApproverAndWhatWasShown() throws {
        var script = JournalScript.failover(end: 95)
        // promote needed two attempts: the first failed with a throttling error.
        script.entries.removeAll { $0.stepId == "promote" }
        script.step("promote", 11, "pending", "running")
        script.step("promote", 20, "running", "failed", error: "Throttling: rate exceeded")
        script.step("promote", 25, "failed", "running", attempt: 2)
        script.step("promote", 85, "running", "succeeded", attempt: 2)
        let evidence = script.evidence()
        #expect(evidence.steps.map(\.id) == ["fence", "go-ahead", "promote", "dns"])
        let promote = try #require(evidence.steps.first { $0.id == "promote" })
        #expect(promote.attempts == 2)
        #expect(promote.result == "succeeded")
        #expect(promote.error == nil)
        #expect(promote.durationSeconds == 74)
        let approval = try #require(evidence.steps.first { $0.id == "go-ahead" })
        #expect(approval.approvedBy == "bob")
        #expect(approval.shown == "Step go-ahead: promote the replica")
        #expect(evidence.approvals.map(\.via) == ["terminal"])
        #expect(evidence.approvals.first?.decision == "approved")
    }

    @Test func failedStepKeepsItsErrorAndDeniedApprovalItsApprover() throws {
        var script = JournalScript(mode: "failover")
        script.run(0, from: nil, to: .running)
        script.step("fence", 0, "pending", "running")
        script.step("fence", 3, "running", "failed", error: "fence: DBInstanceNotFound")
        script.add(4, .approval, step: "go-ahead", ["shown": .string("promote?"), "by": .string("dave"), "decision": .string("denied"),
                                                    "via": .string("approve"), "reason": .string("not now")])
        script.run(5, from: .running, to: .failed)
        let evidence = script.evidence()
        #expect(evidence.status == .failed)
        #expect(evidence.steps.first { $0.id == "fence" }?.error == "fence: DBInstanceNotFound")
        #expect(evidence.steps.first { $0.id == "go-ahead" }?.deniedBy == "dave")
        #expect(evidence.approvals.first?.reason == "not now")
        #expect(evidence.steps.first { $0.id == "dns" }?.result == "pending")
    }

    @Test func compensationsAreJournaledInOrderWithTheirResults() throws {
        var script = JournalScript.failover(end: 95, status: .running)
        script.entries.removeLast()
        script.step("dns", 80, "running", "failed", error: "dns failed")
        script.add(81, .compensation, step: "promote", ["phase": .string("intent"), "action": .string("exec"), "reason": .string("rollback after dns failed"),
                                                       "summary": .string("demote")])
        script.add(84, .compensation, step: "promote", ["phase": .string("outcome"), "result": .string("succeeded")])
        script.step("promote", 84, "succeeded", "compensated")
        script.add(85, .compensation, step: "fence", ["phase": .string("outcome"), "result": .string("failed"), "error": .string("could not evaluate")])
        script.run(86, from: .running, to: .failed)
        let evidence = script.evidence()
        #expect(evidence.compensations.count == 2)
        let first = evidence.compensations[0]
        #expect(first.stepId == "promote" && first.result == "succeeded" && first.reason == "rollback after dns failed")
        #expect(first.endedAt.map { $0.timeIntervalSince(first.startedAt!) } == 3)
        #expect(evidence.compensations[1].stepId == "fence" && evidence.compensations[1].result == "failed")
        #expect(evidence.steps.first { $0.id == "promote" }?.result == "compensated")
        #expect(evidence.steps.first { $0.id == "promote" }?.compensated == true)
    }

    @Test func budgetsAreReadFromThePinnedTextWhenTheRunbookNoLongerValidates() {
        let text = """
            name: from-elsewhere
            budgets: { rpo: 15m, rto: 1h30m }
            steps:
              - { id: promote, action: someprovider.promote }

            """
        var script = JournalScript(runbookText: text)
        script.run(0, from: nil, to: .running)
        script.step("promote", 0, "pending", "running")
        script.add(0, .intent, step: "promote", attempt: 1, ["action": .string("someprovider.promote")])
        script.step("promote", 10, "running", "succeeded")
        script.run(10, from: .running, to: .succeeded)
        let evidence = script.evidence(withRunbook: false)
        #expect(evidence.rto.budgetSeconds == 5400)
        #expect(evidence.rpo.budgetSeconds == 900)
        #expect(evidence.steps.map(\.action) == ["someprovider.promote"])
        #expect(RunbookBudgetsReader.budgets(inText: "not: [valid") == RunbookBudgets())
    }

    @Test func secretsInJournalTextAreRedacted() {
        var script = JournalScript.failover()
        script.step("dns", 96, "succeeded", "failed", error: "connect postgres://app:hunter2secret@db/orders failed")
        let evidence = script.evidence()
        let error = evidence.steps.first { $0.id == "dns" }?.error ?? ""
        #expect(!error.contains("hunter2secret"))
        #expect(error.contains("[REDACTED]"))
    }
}
