import DRCore
import Foundation
import Testing

/// What a failover decides before it changes anything, in the library: the runbook it runs (the
/// plan's own file or the composed one), its reads, and what its journal starts with.
@Suite("Move planner: runbook, reads and start notes of a move")
struct MovePlannerTests {
    let move = Move(kind: .failover, from: "us-east-1", to: "us-west-2")

    /// A provider whose look-ups can fail, with a fixed preflight and one traffic step.
    struct Scripted: DRProvider {
        var lookupError: (any Error)?
        var warning: String?
        var name: String { "scripted" }
        func actions() -> [any RunbookAction] { [] }
        func prepare(_ move: Move, plan: DRPlan) async throws -> (plan: DRPlan, warnings: [PreflightCheck]) {
            if let lookupError { throw lookupError }
            return (plan, warning.map { [PreflightCheck(name: "lookup", ok: false, detail: $0, blocking: false)] } ?? [])
        }
        func preflight(_ move: Move, plan: DRPlan) async -> PreflightFindings {
            PreflightFindings(checks: [PreflightCheck(name: "reachable", ok: true, detail: "yes", blocking: true)], losses: [42])
        }
        func moveSteps(_ move: Move, plan: DRPlan, ids: inout StepIdentifiers) throws -> [MoveStep] {
            [MoveStep(RunbookStep(id: ids.make("switch-traffic"), call: ActionCall(action: "check", with: ["that": .literal(.bool(true))])), phase: .traffic)]
        }
    }

    struct LookupFailed: Error {}

    @Test func readsAreReportedEvenWhenALookupFailsAndNoRunbookIsWritten() async throws {
        let plan = try ProviderSeamTests.plan(ProviderSeamTests.mixed)
        let assessed = await MovePlanner.assess(move, plan: plan, file: nil, providers: [Scripted(lookupError: LookupFailed())],
                                                catalog: ProviderSeamTests.catalog)
        #expect(assessed.report.checks.map(\.name) == ["reachable"])
        #expect(assessed.report.expectedDataLoss == 42)
        #expect(throws: LookupFailed.self) { try assessed.runbook.get() }
    }

    @Test func theComposedRunbookIsPinnedToTheTextTheRunStoresAndCarriesTheLookupWarnings() async throws {
        let plan = try ProviderSeamTests.plan(ProviderSeamTests.mixed)
        let assessed = await MovePlanner.assess(move, plan: plan, file: nil, providers: [Scripted(warning: "zone looked up later")],
                                                catalog: ProviderSeamTests.catalog)
        #expect(assessed.report.checks.map(\.name) == ["reachable", "lookup"])
        let chosen = try assessed.runbook.get()
        #expect(chosen.runbook.steps.map(\.id).contains("switch-traffic"))
        #expect(chosen.runbook.source.digest == Hex.encode(SHA256Digest.hash(Array(chosen.text.utf8))))
        // The stored text is the runbook: it loads back to the same steps.
        let reloaded = try RunbookLoader.parse(text: chosen.text, path: chosen.path, catalog: ProviderSeamTests.catalog)
        #expect(reloaded.steps.map(\.id) == chosen.runbook.steps.map(\.id))
    }

    @Test func aRunbookFileIsRunAsWrittenWithNothingLookedUp() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("planner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("own.yaml").path
        let text = "name: own\nsteps:\n  - id: only\n    action: check\n    with: { that: true }\n"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let plan = try ProviderSeamTests.plan(ProviderSeamTests.mixed)
        // The look-up would fail: with a file, it is not made.
        let assessed = await MovePlanner.assess(move, plan: plan, file: file, providers: [Scripted(lookupError: LookupFailed())],
                                                catalog: ProviderSeamTests.catalog)
        let chosen = try assessed.runbook.get()
        #expect(chosen.runbook.name == "own" && chosen.text == text && chosen.path == file)
    }

    @Test func aPlanWithNothingToMoveIsALocatedPlanError() throws {
        let plan = try ProviderSeamTests.plan(ProviderSeamTests.mixed)
        let back = Move(kind: .failover, from: "us-west-2", to: "azure:eastus")
        #expect(throws: RunbookValidationError.self) {
            try MovePlanner.runbook(back, plan: plan, file: nil, providers: [Scripted()], catalog: ProviderSeamTests.catalog)
        }
    }

    @Test func theJournalStartsWithThePreflightAndTheBudgetsThenTheAcceptance() throws {
        let plan = try ProviderSeamTests.plan(ProviderSeamTests.mixed)
        let report = MovePreflight.Report(checks: [], expectedDataLoss: 1200)
        let accepted: [String: RunValue] = ["event": .string("data-loss-accepted"), "by": .string("me")]
        let notes = MovePlanner.startNotes(report, move: move, plan: plan, acceptance: accepted)
        #expect(notes.count == 2)
        #expect(notes[0]["event"] == .string("preflight") && notes[0]["to"] == .string("us-west-2"))
        #expect(notes[0]["rpo_budget"] == .duration(900) && notes[0]["rto_budget"] == .duration(3600))
        #expect(notes[0]["expected_data_loss"] == .duration(1200))
        #expect(notes[1] == accepted)
        #expect(MovePlanner.startNotes(report, move: move, plan: plan, acceptance: nil).count == 1)
    }
}
