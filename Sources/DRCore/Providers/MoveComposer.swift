import Foundation

/// Writes the runbook of a failover or switchover as a value: every provider's steps for the move,
/// wired across providers through their phases (`MovePhase`), and a closing notification. One
/// runbook, one journal, one RTO clock, whatever clouds the plan spans. YAML is rendered from it
/// only to show or save it (`drctl failover --print-runbook`); the run stores that rendering.
public struct MoveComposer: Sendable {
    public let providers: [any DRProvider]

    public init(providers: [any DRProvider]) { self.providers = providers }

    public struct Problem: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
        public init(message: String) { self.message = message }
    }

    public func runbook(plan: DRPlan, move: Move, catalog: ActionCatalog) throws -> Runbook {
        var ids = StepIdentifiers(reserved: ["report"])
        var contributed: [MoveStep] = []
        for provider in providers {
            contributed += try provider.moveSteps(move, plan: plan, ids: &ids)
        }
        guard !contributed.isEmpty else {
            throw Problem(message: "plan \(plan.name) protects nothing that can move from \(move.from) to \(move.to)")
        }
        // Stable within a group: providers in order, each provider's steps as given.
        let ordered = contributed.enumerated().sorted { ($0.element.phase.group, $0.offset) < ($1.element.phase.group, $1.offset) }.map(\.element)
        func stepIds(_ phases: MovePhase...) -> [String] { ordered.filter { phases.contains($0.phase) }.map(\.step.id) }
        var promotions = stepIds(.promote), readyForTraffic = stepIds(.promote, .dataCheck)
        var steps: [RunbookStep] = []
        var joined = false
        for entry in ordered {
            // Many steps that each need many others (1,000 records after 10,000 promotions) would
            // make the DAG, the journal's pinned text and the engine's work quadratic: past
            // `joinThreshold` edges they need one join step instead, which needs all of them.
            if !joined, entry.phase.group > MovePhase.promote.group {
                joined = true
                let waiting = ordered.filter { $0.phase == .afterPromotion }.count, traffic = ordered.filter { $0.phase == .traffic }.count
                if waiting * promotions.count > Self.joinThreshold {
                    let id = ids.unique("promoted")
                    steps.append(Self.join(id, needs: promotions, "every database is promoted"))
                    promotions = [id]
                }
                if traffic * readyForTraffic.count > Self.joinThreshold {
                    let id = ids.unique("ready-for-traffic")
                    steps.append(Self.join(id, needs: readyForTraffic, "every database is promoted and its data checks passed"))
                    readyForTraffic = [id]
                }
            }
            var step = entry.step
            switch entry.phase {
            case .afterPromotion: step.needs = Self.merge(step.needs, promotions)
            case .traffic: step.needs = Self.merge(step.needs, readyForTraffic)
            default: break
            }
            steps.append(step)
        }
        // The closing notification says "complete": it waits for everything, capacity included.
        let traffic = stepIds(.traffic)
        let summaryNeeds = traffic + stepIds(.evidence) + stepIds(.afterPromotion) + stepIds(.capacity) + (traffic.isEmpty ? readyForTraffic : [])
        let message = try TemplateParser.parse("\(move.kind.rawValue) of \(plan.name) to \(move.to) complete (run ${{ run.id }})")
        steps.append(RunbookStep(id: "report", call: ActionCall(action: "notify", with: ["message": message]), needs: summaryNeeds,
                                 onFailure: .continue))
        let name = "\(move.kind.rawValue)-\(plan.name)-to-\(move.to.slug)"
        let runbook = Runbook(name: name, description: "\(move.kind == .failover ? "Fail over" : "Switch over") \(plan.name) from \(move.from) to \(move.to)",
                              budgets: plan.budgets, steps: steps,
                              source: RunbookSource(path: "generated:\(name).yaml", digest: ""))
        try GeneratedRunbookCheck.check(runbook, catalog: catalog)
        return runbook
    }

    /// Edges (dependents × prerequisites) above which a phase's steps wait on one join step.
    static let joinThreshold = 1_000

    /// A step that succeeds once all of `needs` did (`check` of a constant), skipped like any
    /// other step when one of them failed.
    private static func join(_ id: String, needs: [String], _ message: String) -> RunbookStep {
        RunbookStep(id: id, call: ActionCall(action: "check", with: ["that": Template(constant: .bool(true)), "message": Template(constant: .string(message))]),
                    needs: needs, estimate: 0, description: "join: \(message)")
    }

    private static func merge(_ own: [String], _ more: [String]) -> [String] {
        own + more.filter { !own.contains($0) }
    }
}
