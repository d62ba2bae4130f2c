import Foundation
import Testing
@testable import DRCore

/// What a run's outcome says, over failure policies and skip causes: `succeeded` only when every
/// step that should have run did; tolerated failures and what they kept from running make it
/// `degraded`; a resume re-admits what failed and tells the same truth as an uninterrupted run.
struct RunOutcomeTests {
    typealias Harness = RunExecutorTests.Harness

    /// Answers every question the same way, and counts the questions.
    final class ScriptedPrompter: ApprovalPrompter, @unchecked Sendable {
        let answer: ApprovalAnswer?
        private let lock = NSLock()
        private var asked: [ApprovalRequest] = []
        init(_ answer: ApprovalAnswer?) { self.answer = answer }
        func requestApproval(_ request: ApprovalRequest) async -> ApprovalAnswer? {
            lock.withLock { asked.append(request) }
            return answer
        }
        var questions: [ApprovalRequest] { lock.withLock { asked } }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        /// Steps of the runbook (YAML flow mappings, without the list dash).
        let steps: [String]
        let prompter: ApprovalAnswer??
        let expected: RunStatus
        /// Steps that must have run (acted).
        let ran: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "everything succeeds", steps: ["{ id: a, action: test.op, with: { name: a } }",
                                                   "{ id: b, action: test.op, with: { name: b }, needs: [a] }"],
             prompter: nil, expected: .succeeded, ran: ["a", "b"]),
        Case(name: "a false when, and what needs it, is still a success",
             steps: ["{ id: a, action: test.op, with: { name: a }, when: \"${{ false }}\" }",
                     "{ id: b, action: test.op, with: { name: b }, needs: [a] }",
                     "{ id: c, action: test.op, with: { name: c } }"],
             prompter: nil, expected: .succeeded, ran: ["c"]),
        Case(name: "a failure tolerated by continue, nothing needs it",
             steps: ["{ id: a, action: test.op, with: { name: a, fail: true }, on_failure: continue }",
                     "{ id: b, action: test.op, with: { name: b } }"],
             prompter: nil, expected: .degraded, ran: ["a", "b"]),
        Case(name: "a failure tolerated by continue skips what needs it",
             steps: ["{ id: a, action: test.op, with: { name: a, fail: true }, on_failure: continue }",
                     "{ id: b, action: test.op, with: { name: b }, needs: [a] }",
                     "{ id: c, action: test.op, with: { name: c }, needs: [b] }"],
             prompter: nil, expected: .degraded, ran: ["a"]),
        Case(name: "a step that reports a degradation",
             steps: ["{ id: fence, action: test.op, with: { name: fence, degraded: 'fencing not confirmed' } }",
                     "{ id: promote, action: test.op, with: { name: promote }, needs: [fence] }"],
             prompter: nil, expected: .degraded, ran: ["fence", "promote"]),
        Case(name: "abort", steps: ["{ id: a, action: test.op, with: { name: a, fail: true }, on_failure: abort }",
                                    "{ id: b, action: test.op, with: { name: b }, needs: [a] }"],
             prompter: nil, expected: .failed, ran: ["a"]),
        Case(name: "rollback", steps: ["{ id: a, action: test.op, with: { name: a } }",
                                       "{ id: b, action: test.op, with: { name: b, fail: true }, needs: [a], on_failure: rollback }"],
             prompter: nil, expected: .failed, ran: ["a", "b"]),
        Case(name: "an unknown outcome", steps: ["{ id: a, action: test.op, with: { name: a, fail: true, kind: outcomeUnknown } }",
                                                 "{ id: b, action: test.op, with: { name: b } }"],
             prompter: nil, expected: .unknown, ran: ["a", "b"]),
        Case(name: "a when that cannot be evaluated fails by the step's policy (abort)",
             steps: ["{ id: x, action: test.op, with: { name: x } }",
                     "{ id: a, action: test.op, with: { name: a }, needs: [x], when: \"${{ steps.x.outputs.nothing == 1 }}\" }",
                     "{ id: b, action: test.op, with: { name: b }, needs: [a] }"],
             prompter: nil, expected: .failed, ran: ["x"]),
        Case(name: "ask without anyone to ask stops before what needs it",
             steps: ["{ id: fence, action: test.op, with: { name: fence, fail: true }, on_failure: ask }",
                     "{ id: promote, action: test.op, with: { name: promote }, needs: [fence] }"],
             prompter: .some(nil), expected: .failed, ran: ["fence"]),
        Case(name: "ask, declined",
             steps: ["{ id: fence, action: test.op, with: { name: fence, fail: true }, on_failure: ask }",
                     "{ id: promote, action: test.op, with: { name: promote }, needs: [fence] }"],
             prompter: .some(.denied(by: "oncall", reason: "")), expected: .failed, ran: ["fence"]),
        Case(name: "ask, accepted: what needs it runs and the run is degraded",
             steps: ["{ id: fence, action: test.op, with: { name: fence, fail: true }, on_failure: ask }",
                     "{ id: promote, action: test.op, with: { name: promote }, needs: [fence] }"],
             prompter: .some(.approved(by: "oncall")), expected: .degraded, ran: ["fence", "promote"]),
    ]

    @Test(arguments: cases)
    func runOutcome(_ example: Case) async throws {
        let harness = try Harness()
        let runbook = try harness.load("name: outcome\nsteps:\n" + example.steps.map { "  - \($0)" }.joined(separator: "\n"))
        let prompter = ScriptedPrompter(example.prompter ?? nil)
        let (id, status) = try await harness.start(runbook, autoApprove: true, prompter: prompter)
        #expect(status == example.expected)
        #expect(await harness.recorder.ended.sorted() == example.ran.sorted())
        #expect(try await harness.store.run(id)?.status == example.expected)
        // `--yes` (autoApprove) never answers `ask`: the operator is asked once, and only for `ask`.
        let asks = example.steps.contains { $0.contains("on_failure: ask") }
        #expect(prompter.questions.count == (asks ? 1 : 0))
    }

    @Test func resumeOfAFailedRunRunsTheFailedStepAndEverythingItKeptFromRunning() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: readmit
        steps:
          - { id: flaky, action: test.op, with: { name: flaky } }
          - { id: cutover, action: test.op, with: { name: cutover }, needs: [flaky] }
          - { id: report, action: test.op, with: { name: report }, needs: [cutover] }
        """)
        await harness.recorder.failTimes("flaky", 1)
        let (id, first) = try await harness.start(runbook)
        #expect(first == .failed)
        #expect(await harness.recorder.ended == ["flaky"])
        let resumed = try await harness.resume(id, runbook)
        #expect(resumed == .succeeded)
        #expect(await harness.recorder.ended == ["flaky", "flaky", "cutover", "report"])
        let steps = try await harness.steps(id)
        #expect(steps.values.allSatisfy { $0.state == .succeeded })
    }

    @Test func resumeOfADegradedRunRetriesTheToleratedFailureAndWhatItSkipped() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: readmit-continue
        steps:
          - { id: flaky, action: test.op, with: { name: flaky }, on_failure: continue }
          - { id: cutover, action: test.op, with: { name: cutover }, needs: [flaky] }
          - { id: other, action: test.op, with: { name: other } }
        """)
        await harness.recorder.failTimes("flaky", 1)
        let (id, first) = try await harness.start(runbook)
        #expect(first == .degraded)
        #expect(try await harness.steps(id)["cutover"]?.state == .skipped)
        #expect(try await harness.resume(id, runbook) == .succeeded)
        #expect(await harness.recorder.ended.filter { $0 != "other" } == ["flaky", "flaky", "cutover"])
        #expect(await harness.recorder.ended.filter { $0 == "other" }.count == 1)   // what succeeded is not run again
    }

    @Test func toleratingAFailureOnResumeLetsWhatNeedsItRunAndIsJournaled() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: tolerate
        steps:
          - { id: fence, action: test.op, with: { name: fence, fail: true }, on_failure: ask }
          - { id: promote, action: test.op, with: { name: promote }, needs: [fence] }
        """)
        let (id, first) = try await harness.start(runbook)
        #expect(first == .failed)
        await #expect(throws: ToleranceError.self) { try await harness.resume(id, runbook, tolerate: ["promote"]) }
        await #expect(throws: ToleranceError.self) { try await harness.resume(id, runbook, tolerate: ["nosuchstep"]) }
        #expect(try await harness.resume(id, runbook, tolerate: ["fence"]) == .degraded)
        #expect(await harness.recorder.ended == ["fence", "promote"])   // the tolerated failure is not retried
        let journal = try await harness.store.journal(runId: id)
        #expect(journal.contains { $0.kind == .note && $0.stepId == "fence" && $0.detail["event"] == .string("tolerated")
                                   && $0.detail["by"] == .string("tester") })
        let replay = JournalReplay(entries: journal)
        #expect(replay.degradations(order: ["fence", "promote"]).first?.contains("tolerated by tester") == true)
    }

    @Test func aRunThatStoppedWhileFinishingIsReportedAsItEndedAndReleasesItsLease() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: finishing
        steps:
          - { id: a, action: test.op, with: { name: a } }
        """)
        let (id, status) = try await harness.start(runbook)
        #expect(status == .succeeded)
        // As if killed after the final status was journaled, before the record and the lease.
        try await harness.store.updateRun(id, status: .running, at: Date())
        let dead = LeaseHolder(runId: id, holder: "tester", host: ProcessInfo.processInfo.hostName, pid: 999_999, acquiredAt: Date(), expiresAt: Date().addingTimeInterval(60))
        _ = try await harness.store.acquireLease(scope: "finishing-\(id)", holder: dead, ttl: 60, now: Date())
        #expect(try await harness.resume(id, runbook) == .succeeded)
        #expect(await harness.recorder.ended == ["a"])
        #expect(try await harness.store.run(id)?.status == .succeeded)
        #expect(try await harness.store.lease(scope: "finishing-\(id)") == nil)
        let statuses = try await harness.store.journal(runId: id).filter { $0.kind == .runStatus }.compactMap { $0.detail["to"]?.stringValue }
        #expect(statuses == ["running", "succeeded"])
    }

    /// Fails the first journal write of an act's successful outcome, as a store outage would.
    actor OutcomeWriteOutage: StateStore {
        let inner: any StateStore
        private var failed = false
        init(_ inner: any StateStore) { self.inner = inner }
        func createRun(_ run: RunRecord) async throws { try await inner.createRun(run) }
        func run(_ id: String) async throws -> RunRecord? { try await inner.run(id) }
        func runs(status: RunStatus?, limit: Int) async throws -> [RunRecord] { try await inner.runs(status: status, limit: limit) }
        func updateRun(_ id: String, status: RunStatus, at: Date) async throws { try await inner.updateRun(id, status: status, at: at) }
        func append(_ entry: JournalEntry) async throws -> Int64 {
            if entry.kind == .outcome, entry.detail["result"] == .string("succeeded"), !failed {
                failed = true
                throw StateStoreError(.query, "the store went away")
            }
            return try await inner.append(entry)
        }
        func append(contentsOf entries: [JournalEntry]) async throws -> [Int64] { try await inner.append(contentsOf: entries) }
        func journal(runId: String) async throws -> [JournalEntry] { try await inner.journal(runId: runId) }
        func acquireLease(scope: String, holder: LeaseHolder, ttl: Double, now: Date) async throws -> LeaseAcquisition {
            try await inner.acquireLease(scope: scope, holder: holder, ttl: ttl, now: now)
        }
        func releaseLease(scope: String, runId: String) async throws { try await inner.releaseLease(scope: scope, runId: runId) }
        func lease(scope: String) async throws -> LeaseHolder? { try await inner.lease(scope: scope) }
    }

    @Test func anOutcomeThatCannotBeJournaledLeavesTheStepUnknownNotFailed() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: outage
        steps:
          - { id: a, action: test.op, with: { name: a }, retry: { attempts: 1 } }
          - { id: b, action: test.op, with: { name: b }, needs: [a] }
        """)
        let (id, status) = try await harness.start(runbook, store: OutcomeWriteOutage(harness.store))
        #expect(status == .unknown)
        #expect(try await harness.steps(id)["a"]?.state == .unknown)
    }
}
