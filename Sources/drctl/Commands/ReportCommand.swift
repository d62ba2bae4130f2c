import ArgumentParser
import DRCore
import Foundation

/// `drctl report RUN`: the evidence of one run as JSON, Markdown and a self-contained HTML page;
/// `drctl report --history`: RTO and RPO per quarter across failovers, switchovers and drills.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Evidence report of a run (JSON, Markdown, HTML), or RTO/RPO history across runs.",
        discussion: """
            drctl report RUN                      writes RUN.json, RUN.md and RUN.html into the current directory
            drctl report RUN --format html        prints the HTML page to stdout
            drctl report RUN --format all --out DIR
            drctl report --history [--plan NAME] [--since 2026-01-01] [--format text|json|markdown]
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
        case json, markdown, html, all, text

        var fileExtension: String {
            switch self {
            case .json: return "json"
            case .markdown: return "md"
            case .html: return "html"
            case .all, .text: return "txt"
            }
        }
    }

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateOptions
    @Argument(help: "Run id (see `drctl runs`).") var runId: String?
    @Option(name: .long, help: "json, markdown, html or all for a run (default: all, written to files); text, json or markdown with --history (default: text).")
    var format: Format?
    @Option(name: .long, help: "Directory the report files are written to (default: the current directory).") var out: String?
    @Flag(name: .long, help: "RTO and RPO per quarter across failovers, switchovers and drills.") var history = false
    @Option(name: .long, help: "With --history: only runs of this DR plan (or runbook).") var plan: String?
    @Option(name: .long, help: "With --history: only runs started on or after this date (YYYY-MM-DD or ISO 8601, UTC).") var since: String?

    /// Enough for years of quarterly drills and failovers.
    static let historyRunLimit = 100_000

    func validate() throws {
        if history {
            guard runId == nil else { throw ValidationError("give either a run id or --history, not both") }
            guard out == nil else { throw ValidationError("--out writes a run's report files; --history prints to stdout") }
            if let format, ![.text, .json, .markdown].contains(format) {
                throw ValidationError("--history prints text, json or markdown (got \(format.rawValue))")
            }
            if let since, Self.date(since) == nil { throw ValidationError("--since must be a date like 2026-01-01 (got '\(since)')") }
        } else {
            guard runId != nil else { throw ValidationError("give a run id (see `drctl runs`), or --history") }
            guard plan == nil, since == nil else { throw ValidationError("--plan and --since go with --history") }
            if format == .text { throw ValidationError("a run's report is json, markdown, html or all") }
        }
    }

    func run() async throws {
        try global.bootstrapLogging()
        let store = try await state.openStoreForReading()
        if history { return try await printHistory(store: store) }
        guard let runId else { return }
        let record = try await store.requireRun(runId)
        let evidence = RunEvidence(record: record, journal: try await store.journal(runId: runId), runbook: Self.pinnedRunbook(of: record))
        let format = format ?? .all
        guard format == .all || out != nil else {
            FileHandle.standardOutput.write(Data(Self.render(evidence, as: format).utf8))
            return
        }
        let directory = URL(fileURLWithPath: out ?? FileManager.default.currentDirectoryPath, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for each in format == .all ? [Format.json, .markdown, .html] : [format] {
            let file = directory.appendingPathComponent("\(Self.fileName(runId)).\(each.fileExtension)")
            try Data(Self.render(evidence, as: each).utf8).write(to: file, options: .atomic)
            print(file.path)
        }
    }

    static func render(_ evidence: RunEvidence, as format: Format) -> String {
        let generator = "drctl \(DRCTLVersion.string)"
        switch format {
        case .json, .all, .text: return evidence.json.rendered()
        case .markdown: return EvidenceMarkdown.render(evidence, generator: generator)
        case .html: return EvidenceHTML.render(evidence, generator: generator)
        }
    }

    /// The runbook exactly as the run pinned it, with every action this build knows; nil when it
    /// no longer validates (the evidence then reads steps from the journal, budgets leniently).
    static func pinnedRunbook(of record: RunRecord) -> Runbook? {
        try? RunbookLoader.parse(text: record.runbookText, path: record.runbookPath, catalog: EngineSession.defaultRegistry().catalog,
                                 limits: .stored)
    }

    /// Run ids are generated ("run-20261126-…"), but a file name must never escape `--out`.
    static func fileName(_ runId: String) -> String {
        String(runId.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" }).replacingOccurrences(of: "..", with: "_")
    }

    private func printHistory(store: any StateStore) async throws {
        let sinceDate = since.flatMap(Self.date)
        var evidence: [RunEvidence] = []
        for record in try await store.runs(status: nil, limit: Self.historyRunLimit) where RunHistory.modes.contains(record.mode) {
            if let sinceDate, record.createdAt < sinceDate.addingTimeInterval(-86_400) { continue }
            evidence.append(RunEvidence(record: record, journal: try await store.journal(runId: record.id), runbook: Self.pinnedRunbook(of: record)))
        }
        let report = RunHistory(evidence: evidence, plan: plan, since: sinceDate)
        switch format ?? (global.output == .json ? .json : .text) {
        case .json: FileHandle.standardOutput.write(Data(report.json.rendered().utf8))
        case .markdown: FileHandle.standardOutput.write(Data(report.markdown().utf8))
        default: FileHandle.standardOutput.write(Data(report.text().utf8))
        }
    }

    /// "2026-01-01" (midnight UTC) or a full ISO 8601 timestamp.
    static func date(_ text: String) -> Date? {
        let full = ISO8601DateFormatter()
        if let date = full.date(from: text) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        day.timeZone = TimeZone(identifier: "UTC")
        return day.date(from: text)
    }
}
