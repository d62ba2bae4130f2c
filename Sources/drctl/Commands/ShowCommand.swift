import ArgumentParser
import DRCore
import Foundation

/// `drctl show RUN`: the run's timeline — each step's start, end, duration, attempts, result and
/// error, approvals and who gave them, and the run's own transitions.
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a run's timeline.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateOptions
    @Argument(help: "Run id.") var runId: String
    @Flag(name: .long, help: "Also print every journal entry.") var journal = false

    struct StepLine: Encodable {
        let id: String
        let action: String
        let status: String
        let started: String?
        let ended: String?
        let durationSeconds: Double?
        let attempts: Int
        let error: String?
        let approvedBy: String?
        let outputs: [String: String]
    }

    struct Timeline: Encodable {
        let id: String
        let runbook: String
        let status: String
        let startedBy: String
        let host: String
        let runbookDigest: String
        let inputs: [String: String]
        let steps: [StepLine]
        /// How many journal entries the run has.
        let entries: Int
        /// With `--journal`: every entry, in order.
        let journal: [JournalLine]?
    }

    /// One journal entry in `--journal --output json`: every key always present (`null` when it
    /// does not apply); `detail` holds the entry's values as plain JSON (durations in seconds).
    struct JournalLine: Encodable {
        let sequence: Int64
        let at: String
        let kind: String
        let step: String?
        let attempt: Int?
        let detail: [String: PlainJSONValue]

        enum CodingKeys: String, CodingKey { case sequence, at, kind, step, attempt, detail }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(sequence, forKey: .sequence)
            try container.encode(at, forKey: .at)
            try container.encode(kind, forKey: .kind)
            try container.encode(step, forKey: .step)
            try container.encode(attempt, forKey: .attempt)
            try container.encode(detail, forKey: .detail)
        }
    }

    func run() async throws {
        try global.bootstrapLogging()
        let store = try await state.openStoreForReading()
        let record = try await store.requireRun(runId)
        let entries = try await store.journal(runId: runId)
        let runbook = try? EngineSession.runbook(for: record, allowChanged: true)
        // The same model as `drctl report`: one reading of the journal.
        let evidence = RunEvidence(record: record, journal: entries, runbook: runbook)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let steps = evidence.steps.map { step in
            StepLine(id: step.id, action: step.action, status: step.result,
                     started: step.startedAt.map(formatter.string), ended: step.endedAt.map(formatter.string),
                     durationSeconds: step.durationSeconds, attempts: step.attempts, error: step.error, approvedBy: step.approvedBy,
                     outputs: step.outputs)
        }
        let timeline = Timeline(id: record.id, runbook: record.runbookName, status: record.status.rawValue, startedBy: record.startedBy,
                                host: record.host, runbookDigest: record.runbookDigest, inputs: record.inputs.mapValues(\.description),
                                steps: steps, entries: entries.count,
                                journal: journal ? entries.map { entry in
                                    JournalLine(sequence: entry.sequence, at: formatter.string(from: entry.at), kind: entry.kind.rawValue,
                                                step: entry.stepId, attempt: entry.attempt, detail: entry.detail.mapValues(PlainJSONValue.init))
                                } : nil)
        switch global.output {
        case .json:
            try JSONOutput.print(timeline)
        case .text:
            print("Run \(record.id) — \(record.runbookName) — \(record.status.rawValue)")
            print("Started by \(record.startedBy) on \(record.host) at \(formatter.string(from: record.createdAt)); runbook digest \(record.runbookDigest.prefix(12))")
            if !record.inputs.isEmpty {
                print("Inputs: " + record.inputs.keys.sorted().map { "\($0)=\(record.inputs[$0]!)" }.joined(separator: ", "))
            }
            var table = [["STEP", "ACTION", "STATUS", "STARTED", "DURATION", "ATTEMPTS", "NOTE"]]
            for step in steps {
                let started: String = step.started.map { String($0.dropFirst(11).prefix(12)) } ?? "-"
                let duration: String = step.durationSeconds.map(DurationText.format) ?? "-"
                let approval: String = step.approvedBy.map { "approved by \($0)" } ?? ""
                table.append([step.id, step.action, step.status, started, duration, String(step.attempts), step.error ?? approval])
            }
            TextTable.print(table)
            if journal {
                print("\nJournal (\(entries.count) entries):")
                for entry in entries {
                    let detail = entry.detail.keys.sorted().map { "\($0)=\(entry.detail[$0]!)" }.joined(separator: " ")
                    print("  #\(entry.sequence) \(formatter.string(from: entry.at)) \(entry.kind.rawValue) \(entry.stepId ?? "")\(entry.attempt.map { " attempt \($0)" } ?? "") \(detail)")
                }
            }
        }
    }
}
