import Foundation
import Testing
@testable import AWSProvider
import PostgresProvider
@testable import DRCore

/// What `--print-runbook` prints and a run pins is the composed runbook rendered as YAML: for the
/// reference plan and the test plans, that text must load back (with the actions' catalogue) as
/// exactly the runbook the composer built — so a printed, saved and named runbook runs identically
/// — and render to the same bytes every time.
@Suite struct GeneratedRunbookRenderTests {
    @Test(arguments: GeneratedRunbookGoldenTests.cases) func renderedMoveLoadsBackAsTheComposedRunbook(_ move: GeneratedRunbookGoldenTests.Case) throws {
        let plan = try DRPlanLoader.load(path: GeneratedRunbookGoldenTests.planPath(move.plan), sections: PlanSections.all)
        let composed = try GeneratedRunbookGoldenTests.generate(plan, move)
        let (text, pinned) = RunbookRenderer.pinned(composed, path: "generated:\(move.golden).yaml")
        let loaded = try RunbookLoader.parse(text: text, path: pinned.source.path, catalog: FailoverRunbookTests.registry.catalog)
        #expect(loaded.source == pinned.source, "the pinned digest is the digest of the text")
        var expected = composed
        expected.source = loaded.source
        expected.steps = zip(composed.steps, loaded.steps).map { step, loadedStep in
            var step = step
            step.location = loadedStep.location
            return step
        }
        #expect(loaded == expected, "\(move.golden): \(Self.differences(expected, loaded).joined(separator: "; "))")
        #expect(RunbookRenderer.render(loaded) == text)
    }

    /// Where two runbooks differ, field by field (a whole-runbook dump is unreadable).
    static func differences(_ expected: Runbook, _ loaded: Runbook) -> [String] {
        var found: [String] = []
        if expected.name != loaded.name || expected.description != loaded.description { found.append("name or description") }
        if expected.inputs != loaded.inputs { found.append("inputs") }
        if expected.budgets != loaded.budgets { found.append("budgets") }
        if expected.outputs != loaded.outputs { found.append("outputs") }
        if expected.steps.count != loaded.steps.count { found.append("\(expected.steps.count) steps composed, \(loaded.steps.count) loaded") }
        for (step, other) in zip(expected.steps, loaded.steps) where step != other {
            for key in Set(step.call.with.keys).union(other.call.with.keys).sorted() where step.call.with[key] != other.call.with[key] {
                found.append("\(step.id).with.\(key): composed \(String(describing: step.call.with[key])), loaded \(String(describing: other.call.with[key]))")
            }
            if step.compensate != other.compensate { found.append("\(step.id).compensate: \(String(describing: step.compensate)) vs \(String(describing: other.compensate))") }
            var a = step, b = other
            (a.call, b.call, a.compensate, b.compensate) = (b.call, b.call, nil, nil)
            if a != b { found.append("\(step.id): composed \(step), loaded \(other)") }
        }
        return found
    }
}
