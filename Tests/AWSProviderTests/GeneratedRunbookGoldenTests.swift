import Foundation
import Testing
@testable import AWSProvider
import PostgresProvider
@testable import DRCore

/// The generated failover and switchover runbooks of the reference plan and the test plans, step
/// for step, against golden files taken from the generator before the provider seam: what each
/// step does (action, arguments, needs, timeout, retry, estimate, failure policy) must not change
/// when the code that writes it moves. Compared as values (the parsed runbook), not as text.
///
/// To accept a deliberate change: `DRCTL_UPDATE_GOLDEN=1 swift test --filter GeneratedRunbookGoldenTests`,
/// then review the diff of `Tests/AWSProviderTests/Fixtures/golden/*.json`.
@Suite struct GeneratedRunbookGoldenTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let plan: String
        let kind: Move.Kind
        let from: String
        let to: String
        var golden: String { "\(plan).\(kind.rawValue).\(from)-to-\(to).json" }
        var testDescription: String { golden }
    }

    static let cases: [Case] = [
        Case(plan: "reference", kind: .failover, from: "us-east-1", to: "us-west-2"),
        Case(plan: "reference", kind: .switchover, from: "us-east-1", to: "us-west-2"),
        Case(plan: "reference", kind: .failover, from: "us-west-2", to: "us-east-1"),
        Case(plan: "everything", kind: .failover, from: "us-east-1", to: "us-west-2"),
        Case(plan: "everything", kind: .switchover, from: "us-east-1", to: "us-west-2"),
        Case(plan: "everything", kind: .failover, from: "us-west-2", to: "us-east-1"),
        Case(plan: "everything", kind: .failover, from: "us-east-1", to: "eu-west-1"),
        Case(plan: "arc", kind: .failover, from: "us-east-1", to: "us-west-2"),
        Case(plan: "arc", kind: .switchover, from: "us-west-2", to: "us-east-1"),
    ]

    /// The drills of the reference plan and of a plan with checks, for a fixed run id.
    @Test(arguments: ["reference", "drill"]) func generatedDrillMatchesItsGoldenFile(_ name: String) throws {
        let plan = try DRPlanLoader.load(path: Self.planPath(name), sections: PlanSections.all)
        let drill = try DrillComposer.make(plan: plan, site: "us-west-2", runId: "run-20261204-120000-abc123",
                                           providers: FailoverRunbookTests.providers, available: Set(FailoverRunbookTests.registry.catalog.actions.keys))
        let runbook = try RunbookLoader.parse(text: RunbookRenderer.render(drill.runbook), path: "generated", catalog: FailoverRunbookTests.registry.catalog)
        let dump = try Self.canonical(runbook)
        let file = Self.directory.appendingPathComponent("\(name).drill.us-west-2.json")
        if ProcessInfo.processInfo.environment["DRCTL_UPDATE_GOLDEN"] == "1" {
            try dump.write(to: file, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: file, encoding: .utf8)
        #expect(dump == golden, "\(file.lastPathComponent) differs: regenerate with DRCTL_UPDATE_GOLDEN=1 only if the change is deliberate")
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/golden")

    static func planPath(_ name: String) -> String {
        if name == "reference" {
            return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Runbooks/drplan.yaml").standardized.path
        }
        return directory.appendingPathComponent("\(name).plan.yaml").path
    }

    @Test(arguments: cases) func generatedMoveMatchesItsGoldenFile(_ move: Case) throws {
        let plan = try DRPlanLoader.load(path: Self.planPath(move.plan), sections: PlanSections.all)
        let runbook = try Self.generate(plan, move)
        let dump = try Self.canonical(runbook)
        let file = Self.directory.appendingPathComponent(move.golden)
        if ProcessInfo.processInfo.environment["DRCTL_UPDATE_GOLDEN"] == "1" {
            try dump.write(to: file, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: file, encoding: .utf8)
        #expect(dump == golden, "\(move.golden) differs: regenerate with DRCTL_UPDATE_GOLDEN=1 only if the change is deliberate")
    }

    static func generate(_ plan: DRPlan, _ move: Case) throws -> Runbook {
        try FailoverRunbookTests.composer.runbook(plan: plan, move: Move(kind: move.kind, from: Site(parsing: move.from)!, to: Site(parsing: move.to)!),
                                                  catalog: FailoverRunbookTests.registry.catalog)
    }

    /// The runbook as sorted-key JSON, one step per element: everything the engine acts on, nothing
    /// about where in a text it was written.
    static func canonical(_ runbook: Runbook) throws -> String {
        func template(_ value: Template) -> RunValue {
            if let constant = value.constantValue { return constant }
            switch value.structure {
            case .list(let items)?: return .list(items.map(template))
            case .map(let entries)?: return .map(entries.mapValues(template))
            case nil:
                return .string(value.parts.map { part in
                    switch part {
                    case .text(let text): return text
                    case .expression(let expression): return "${{ \(expression) }}"
                    }
                }.joined())
            }
        }
        var steps: [RunValue] = []
        for step in runbook.steps {
            var entry: [String: RunValue] = [
                "id": .string(step.id), "action": .string(step.call.action), "with": .map(step.call.with.mapValues(template)),
                "needs": .list(step.needs.map { .string($0) }), "on_failure": .string(step.onFailure.rawValue),
                "retry": .map(["attempts": .int(step.retry.attempts), "backoff": .double(step.retry.backoff),
                               "max_backoff": .double(step.retry.maxBackoff), "on": .list(step.retry.on.map { .string($0) })]),
                "description": .string(step.description),
            ]
            if let timeout = step.timeout { entry["timeout"] = .double(timeout) }
            if let estimate = step.estimate { entry["estimate"] = .double(estimate) }
            if let when = step.when { entry["when"] = .string("\(when)") }
            if let compensate = step.compensate {
                entry["compensate"] = .map(["action": .string(compensate.action), "with": .map(compensate.with.mapValues(template))])
            }
            steps.append(.map(entry))
        }
        let document: RunValue = .map([
            "name": .string(runbook.name), "description": .string(runbook.description),
            "budgets": .map(["rpo": runbook.budgets.rpo.map { .double($0) } ?? .null, "rto": runbook.budgets.rto.map { .double($0) } ?? .null]),
            "steps": .list(steps),
        ])
        let data = try JSONSerialization.data(withJSONObject: plain(document), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// A value as JSON: a duration is its seconds, as the runbook's own numbers are.
    static func plain(_ value: RunValue) -> Any {
        switch value {
        case .null: return NSNull()
        case .bool(let flag): return flag
        case .int(let number): return number
        case .double(let number): return number
        case .duration(let seconds): return ["duration": seconds]
        case .string(let text): return text
        case .list(let items): return items.map(plain)
        case .map(let entries): return entries.mapValues(plain)
        }
    }
}
