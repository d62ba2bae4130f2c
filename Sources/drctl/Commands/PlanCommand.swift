import ArgumentParser
import DRCore
import Foundation

/// `drctl plan RUNBOOK`: the dry run — order and parallel groups, what each step would do and
/// whether it changes anything, estimates and the RTO forecast. Makes no call that changes anything.
/// `drctl plan --plan drplan.yaml --failover-to SITE` (or `--switchover-to`) does the same for the
/// runbook a move of the plan would generate — without reading the cloud: no preflight, and DNS
/// zones named by name stay names (the step looks them up when it runs).
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "Show what a runbook, or a move of a DR plan, would do, in which order, and how long it should take.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Runbook file (or give --plan with --failover-to / --switchover-to).") var file: String?
    @Option(name: .customLong("input"), help: "An input, name=value (repeatable).") var inputs: [String] = []
    @Option(name: .long, help: "The DR plan whose generated move to show.") var plan: String?
    @Option(name: .customLong("failover-to"), help: "Show the failover of --plan to this site.") var failoverTo: String?
    @Option(name: .customLong("switchover-to"), help: "Show the switchover of --plan to this site.") var switchoverTo: String?
    @Option(name: .long, help: "The site the move leaves (default: as `drctl failover` chooses).") var from: String?
    @Flag(name: .customLong("print-runbook"), help: "Print the generated runbook (YAML) instead of the plan of it.") var printRunbook = false

    func validate() throws {
        let targets = [failoverTo, switchoverTo].compactMap { $0 }
        if plan != nil {
            guard file == nil else { throw ValidationError("give a runbook file or --plan, not both") }
            guard targets.count < 2 else { throw ValidationError("give --failover-to SITE or --switchover-to SITE, not both") }
            guard targets.count == 1 else { throw ValidationError("--plan needs one of --failover-to SITE or --switchover-to SITE") }
            guard inputs.isEmpty else { throw ValidationError("--input is for runbook files; a generated move has no inputs") }
        } else {
            guard file != nil else { throw ValidationError("give a runbook file, or --plan with --failover-to SITE / --switchover-to SITE") }
            guard targets.isEmpty, from == nil, !printRunbook else { throw ValidationError("--failover-to, --switchover-to, --from and --print-runbook need --plan") }
        }
    }

    struct PlannedStep: Encodable {
        let id: String
        let action: String
        let wave: Int
        let needs: [String]
        let changes: Bool
        let would: String
        let estimateSeconds: Double?
        let when: String?
        let onFailure: String
        let compensate: String?
    }

    struct Plan: Encodable {
        let runbook: String
        let digest: String
        let waves: [[String]]
        let steps: [PlannedStep]
        let rtoForecastSeconds: Double
        let rtoBudgetSeconds: Double?
        let rpoBudgetSeconds: Double?
        let warnings: [String]
    }

    func run() async throws {
        try global.bootstrapLogging()
        let providers = ProviderRegistration.providers(.declarationsOnly)
        let registry = EngineSession.registry(for: providers)
        let runbook: Runbook, values: [String: RunValue]
        if let planPath = plan {
            runbook = try moveRunbook(planPath: planPath, providers: providers, registry: registry)
            values = [:]
            if printRunbook {
                print(RunbookRenderer.render(runbook), terminator: "")
                return
            }
        } else {
            runbook = try RunbookLoader.load(path: file ?? "", catalog: registry.catalog)
            values = try InputParser.parse(inputs, for: runbook)
        }
        let plan = Self.make(runbook, inputs: values, registry: registry)
        switch global.output {
        case .json: try JSONOutput.print(plan)
        case .text: Self.render(plan)
        }
    }

    /// The runbook `drctl failover` / `switchover` would generate for the plan, as a value.
    private func moveRunbook(planPath: String, providers: [any DRProvider], registry: ActionRegistry) throws -> Runbook {
        let drPlan = try DRPlanLoader.load(path: planPath, sections: ProviderRegistration.sections)
        let kind: Move.Kind = failoverTo != nil ? .failover : .switchover
        let move: Move
        do { move = try drPlan.move(kind, to: failoverTo ?? switchoverTo ?? "", from: from) } catch { throw ValidationError(error.message) }
        // The plan's own runbook for this move, when it names one: what `failover` would run.
        return try MovePlanner.runbook(move, plan: drPlan, file: nil, providers: providers, catalog: registry.catalog).runbook
    }

    static func make(_ runbook: Runbook, inputs: [String: RunValue], registry: ActionRegistry) -> Plan {
        let waves = RTOForecast.parallelGroups(runbook.steps)
        let context = EvaluationContext(inputs: inputs, run: ["id": .string("(plan)"), "name": .string(runbook.name)])
        var warnings: [String] = []
        let steps = runbook.steps.map { step -> PlannedStep in
            let action = registry.action(step.call.action)
            // Arguments that read earlier steps' outputs are unknown before the run: show them as written.
            var arguments: [String: RunValue] = [:]
            for (key, template) in step.call.with {
                arguments[key] = (try? template.evaluate(context)) ?? .string("<\(key) from an earlier step>")
            }
            if step.estimate == nil { warnings.append("step \(step.id) has no estimate: the RTO forecast counts it as 0") }
            return PlannedStep(id: step.id, action: step.call.action, wave: waves.firstIndex { $0.contains(step.id) } ?? 0,
                               needs: step.needs, changes: action?.isMutating ?? true,
                               would: action?.describe(arguments) ?? step.call.action, estimateSeconds: step.estimate,
                               when: step.when?.description, onFailure: step.onFailure.rawValue,
                               compensate: step.compensate.map { $0.action })
        }
        var estimates: [String: Double] = [:]
        for step in runbook.steps { estimates[step.id] = step.estimate ?? 0 }
        let forecast = RTOForecast.remainingCriticalPath(steps: runbook.steps, estimates: estimates, finished: [])
        if let budget = runbook.budgets.rto, forecast > budget {
            warnings.append("the RTO forecast \(DurationText.format(forecast)) exceeds the budget \(DurationText.format(budget))")
        }
        return Plan(runbook: runbook.name, digest: runbook.source.digest, waves: waves, steps: steps, rtoForecastSeconds: forecast,
                    rtoBudgetSeconds: runbook.budgets.rto, rpoBudgetSeconds: runbook.budgets.rpo, warnings: warnings)
    }

    static func render(_ plan: Plan) {
        print("Plan for \(plan.runbook) (digest \(plan.digest.prefix(12)))")
        for (index, wave) in plan.waves.enumerated() {
            print("\nWave \(index + 1)\(wave.count > 1 ? " — \(wave.count) steps in parallel" : ""):")
            for id in wave {
                guard let step = plan.steps.first(where: { $0.id == id }) else { continue }
                let marker = step.changes ? "changes" : "reads  "
                let estimate = step.estimateSeconds.map { " ~\(DurationText.format($0))" } ?? ""
                print("  [\(marker)] \(step.id): \(step.would)\(estimate)")
                if let when = step.when { print("            only when \(when)") }
                if step.onFailure != "abort" { print("            on failure: \(step.onFailure)") }
                if let compensate = step.compensate { print("            compensate: \(compensate)") }
            }
        }
        var forecast = "\nRTO forecast: \(DurationText.format(plan.rtoForecastSeconds))"
        if let budget = plan.rtoBudgetSeconds { forecast += " of a \(DurationText.format(budget)) budget" }
        print(forecast)
        if let rpo = plan.rpoBudgetSeconds { print("RPO budget: \(DurationText.format(rpo))") }
        for warning in plan.warnings { print("warning: \(warning)") }
    }
}
