import Foundation

/// What a failover or switchover decides before it changes anything: the runbook it runs, what the
/// providers read first (preflight and look-ups, at once), the RPO gate's verdict, and what the
/// run's journal starts with. The executable only asks, confirms and renders around it, so that
/// `drctl failover`, `drctl plan --plan` and a dry run decide the same way.
public enum MovePlanner {
    /// A move's runbook as it runs: the pinned text the run stores, and where it came from.
    public struct MoveRunbook: Sendable {
        public let runbook: Runbook
        public let text: String
        /// The runbook file, or the generated runbook's name for the journal.
        public let path: String
    }

    /// The reads of a move and what they decided.
    public struct Assessment: Sendable {
        /// Every provider's preflight, with the look-ups' warnings when they were made.
        public var report: MovePreflight.Report
        /// The runbook to run, or why there is none (a look-up or the plan failed). The report
        /// above holds what was checked before that error.
        public var runbook: Result<MoveRunbook, any Error>
    }

    /// The runbook for `move`: the file given or the plan names for it (loaded and validated), else
    /// every provider's steps composed and rendered once. Reads nothing from a cloud.
    public static func runbook(_ move: Move, plan: DRPlan, file: String?, providers: [any DRProvider],
                               catalog: ActionCatalog) throws -> MoveRunbook {
        if let file = file ?? plan.runbookFile(for: move.kind, to: move.to) {
            let runbook = try RunbookLoader.load(path: file, catalog: catalog)
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            return MoveRunbook(runbook: runbook, text: text, path: URL(fileURLWithPath: file).standardizedFileURL.path)
        }
        // A plan error, located in the plan (the composer's own refusal names no place).
        if let nothing = plan.nothingToMove(from: move.from, to: move.to) { throw nothing }
        let composed = try MoveComposer(providers: providers).runbook(plan: plan, move: move, catalog: catalog)
        let (text, runbook) = RunbookRenderer.pinned(composed, path: composed.source.path)
        return MoveRunbook(runbook: runbook, text: text, path: runbook.source.path)
    }

    /// The generated runbook after the providers' look-ups (`--print-runbook`): what the move would run.
    public static func preparedRunbook(_ move: Move, plan: DRPlan, file: String?, providers: [any DRProvider],
                                       catalog: ActionCatalog) async throws -> MoveRunbook {
        let named = file ?? plan.runbookFile(for: move.kind, to: move.to)
        let prepared = named == nil ? try await MovePreflight.prepare(move, plan: plan, providers: providers).plan : plan
        return try runbook(move, plan: prepared, file: named, providers: providers, catalog: catalog)
    }

    /// Preflight and look-ups go out together (one round trip of latency), then the runbook is
    /// written from the prepared plan. A runbook file names its own resources: nothing to look up.
    public static func assess(_ move: Move, plan: DRPlan, file: String?, providers: [any DRProvider],
                              catalog: ActionCatalog) async -> Assessment {
        let named = file ?? plan.runbookFile(for: move.kind, to: move.to)
        async let lookups = Result.catching { named == nil ? try await MovePreflight.prepare(move, plan: plan, providers: providers) : (plan, []) }
        var report = await MovePreflight.run(move, plan: plan, providers: providers)
        let runbook: Result<MoveRunbook, any Error>
        switch await lookups {
        case .success(let (prepared, warnings)):
            report.checks += warnings
            runbook = Result { try Self.runbook(move, plan: prepared, file: named, providers: providers, catalog: catalog) }
            // Whether the caller may make every call the runbook will make, asked before the first.
            if case .success(let chosen) = runbook {
                report.checks += await providers.concurrentMap { await $0.permissionChecks(move, plan: prepared, runbook: chosen.runbook) }.flatMap { $0 }
            }
        case .failure(let error):
            runbook = .failure(error)
        }
        return Assessment(report: report, runbook: runbook)
    }

    /// What a move's journal starts with: its preflight with the plan's budgets (the summary, also
    /// `resume`'s, reads them back), then the operator's acceptance of data loss, if any.
    public static func startNotes(_ report: MovePreflight.Report, move: Move, plan: DRPlan,
                                  acceptance: [String: RunValue]?) -> [[String: RunValue]] {
        var preflight = report.journalDetail(plan: plan, from: move.from, to: move.to)
        preflight["rpo_budget"] = plan.budgets.rpo.map { .duration($0) } ?? .null
        preflight["rto_budget"] = plan.budgets.rto.map { .duration($0) } ?? .null
        return [preflight] + (acceptance.map { [$0] } ?? [])
    }

    /// The RPO budget a move is judged by: the plan's, else drctl's default of one hour.
    public static func rpoBudget(_ plan: DRPlan) -> Double { plan.budgets.rpo ?? 3600 }
}
