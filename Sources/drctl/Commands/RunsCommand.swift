import ArgumentParser
import DRCore
import Foundation

/// `drctl runs`: the runs in the store, newest first, with who holds each lock.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List runs (newest first).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateOptions
    @Option(name: .long, help: "Only runs with this status: \(RunStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
    var status: String?
    @Option(name: .long, help: "At most this many runs.") var limit = 50

    struct Row: Encodable {
        let id: String
        let runbook: String
        let status: String
        let started: String
        let updated: String
        let by: String
        let host: String
        let lockHeldBy: String?
    }

    func run() async throws {
        try global.bootstrapLogging()
        var filter: RunStatus?
        if let status {
            guard let parsed = RunStatus(rawValue: status) else {
                throw ValidationError("--status must be one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter = parsed
        }
        let store = try await state.openStoreForReading()
        let formatter = ISO8601DateFormatter()
        var rows: [Row] = []
        for record in try await store.runs(status: filter, limit: limit) {
            let lease = try await store.lease(scope: record.lockScope)
            let holder = lease.flatMap { $0.runId == record.id && $0.expiresAt > Date() ? "\($0.holder)@\($0.host) pid \($0.pid)" : nil }
            rows.append(Row(id: record.id, runbook: record.runbookName, status: record.status.rawValue,
                            started: formatter.string(from: record.createdAt), updated: formatter.string(from: record.updatedAt),
                            by: record.startedBy, host: record.host, lockHeldBy: holder))
        }
        switch global.output {
        case .json:
            try JSONOutput.print(rows)
        case .text:
            guard !rows.isEmpty else { print("no runs"); return }
            let table = [["RUN", "RUNBOOK", "STATUS", "STARTED", "BY", "LOCK"]]
                + rows.map { [$0.id, $0.runbook, $0.status, $0.started, "\($0.by)@\($0.host)", $0.lockHeldBy ?? "-"] }
            TextTable.print(table)
        }
    }
}

enum TextTable {
    static func print(_ rows: [[String]]) {
        guard let first = rows.first else { return }
        let widths = first.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            Swift.print(row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  "))
        }
    }
}
