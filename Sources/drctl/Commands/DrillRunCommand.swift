import AWSProvider
import ArgumentParser
import DRCore
import Foundation

/// `drctl drill run`: for each plan database with a replica in the DR region, snapshot the
/// replica, restore it under a drill name with drill tags, validate the copy, measure RPO, and
/// delete everything it created — also after a failure (compensations) or a crash (`drctl resume`).
/// It creates and deletes only drill-named, drill-tagged resources and never fences, promotes or
/// moves traffic, so it asks for no confirmation (it is meant for cron and scheduled tasks).
struct DrillRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a drill: restore the DR replica's snapshot as a drill copy, validate, measure RPO/RTO, always tear down.",
        discussion: "Creates only drill-named, drill-tagged resources and deletes them again; never touches production DNS or the production replica, so no confirmation is asked.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateOptions
    @OptionGroup var execution: ExecutionOptions

    @Option(name: .long, help: "The DR plan (default: $DRCTL_PLAN, else ./drplan.yaml).") var plan: String?
    @Option(name: .long, help: "The site to drill in, one of the plan's (`us-west-2`, `gcp:us-central1`; default: the plan's first DR site).") var region: String?
    @Option(name: .long, help: "Named profile from the AWS config/credentials files (default: AWS_PROFILE).") var profile: String?
    @Flag(name: .long, help: "Print the drill runbook this would run, and stop.") var printRunbook = false

    var planPath: String { plan ?? ProcessInfo.processInfo.environment["DRCTL_PLAN"] ?? "drplan.yaml" }

    func run() async throws {
        try global.bootstrapLogging()
        let plan = try DRPlanLoader.load(path: planPath, sections: ProviderRegistration.sections)
        let named = region ?? plan.drSite?.description ?? ""
        guard let site = plan.site(named: named) else {
            throw RunEnded(status: .usage, message: "refusing the drill: plan \(plan.name) has nothing in \(named) (\(plan.siteListing))")
        }
        let providers = ProviderRegistration.providers(ProviderContext(aws: try AWSContext(profile: profile, region: nil)))
        let registry = EngineSession.registry(for: providers)
        let now = Date()
        let runId = RunIdentifier.make(now: now)
        let drill: DrillComposer.Drill
        do {
            drill = try DrillComposer.make(plan: plan, site: site, runId: runId, providers: providers, available: Set(registry.names))
        } catch let problem as DrillProblem {
            throw problem.refusal(plan: plan)
        }
        let path = "generated:\(drill.name).yaml"
        // Built as a value, rendered once: the text the run pins is read back exactly as `resume`
        // will read it (drctl's own bounds, not a user file's), which validates it too.
        let (text, runbook) = RunbookRenderer.pinned(drill.runbook, path: path)
        do {
            _ = try RunbookLoader.parse(text: text, path: path, catalog: registry.catalog, limits: .stored)
        } catch {
            throw RunEnded(status: .invalidRunbook, message: "the generated drill runbook does not validate (a drctl defect):\n\(error)")
        }
        if printRunbook {
            print(text, terminator: "")
            return
        }
        // Every URL the drill reads (the copy's, the primary's, a check's own) must be there before
        // anything is created: the same list the scheduled jobs are given as secrets.
        let environment = ProcessInfo.processInfo.environment
        for name in plan.drill.urlEnvironmentVariables where !plan.drill.checks.isEmpty || drill.rpoNotMeasuredReason == nil {
            if environment[name]?.isEmpty ?? true {
                throw RunEnded(status: .usage, message: "refusing the drill: environment variable \(name) (named by the plan's drills section) is not set")
            }
        }

        let store = try state.openStore()
        var execution = self.execution
        execution.yes = true   // a drill has no approvals: it only creates and deletes its own copies
        let record = RunRecord(id: runId, runbookName: runbook.name, runbookPath: path, runbookDigest: runbook.source.digest,
                               runbookText: text, inputs: [:], status: .running, createdAt: now, updatedAt: now,
                               startedBy: execution.resolvedOperator, host: ThisHost.name, mode: "drill",
                               lockScope: "drill:\(plan.name)")
        let session = EngineSession(store: store, global: global, execution: execution, registry: registry)
        try await session.begin(record)
        try await store.append(JournalEntry(runId: runId, at: now, kind: .note, detail: DrillSummary.startNote(plan: plan, drill: drill, site: site)))
        if global.output == .text {
            let created = drill.resources.flatMap { $0.created.map { "\($0.kind) \($0.name)" } }
            OutputLock.shared.write("run \(runId) (drill of \(plan.name) in \(site); creates and then deletes: \(created.joined(separator: ", ")))\n")
        }
        // The heartbeat the RPO is measured with: written on the primary for as long as the drill
        // runs, so the restored copy's newest beat says how far behind it is.
        let heartbeat = drill.rpoNotMeasuredReason == nil ? plan.drill.primaryURLEnv.flatMap { environment[$0] }
            .map { HeartbeatWriter.start(url: $0, interval: 1, source: "drill") } : nil
        let status: RunStatus
        do {
            status = try await session.run(runbook: runbook, record: record)
        } catch {
            _ = try? await heartbeat?.stop()
            throw error
        }
        _ = try? await heartbeat?.stop()
        try await DrillSummary.conclude(store: store, runId: runId, format: global.output)
        try await session.finish(status, record: record)
    }
}

extension DrillProblem {
    /// How a drill the plan cannot make ends the command: the cost guard is the budget's refusal
    /// (4); anything else is the plan's problem (3), named with the plan's file.
    func refusal(plan: DRPlan) -> RunEnded {
        RunEnded(status: refusedByCostGuard ? .refusedByBudget : .invalidRunbook,
                 message: "refusing the drill: \(plan.source.path): drills: \(message)")
    }
}
