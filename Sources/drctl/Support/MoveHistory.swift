import DRCore
import Foundation

/// What the earlier moves of a plan (its failovers and switchovers share the lease `plan:NAME`)
/// say about starting another. A move that did not finish must be resumed — a second run would
/// send Stop and Promote again while the first stays "running" forever — or abandoned on purpose
/// (`--abandon RUN`). A plan whose last finished move already went to the target region has
/// nothing to do: no new run, and no RTO sample in the history.
struct MoveHistory {
    let store: any StateStore
    let scope: String

    /// How far back to look; a plan has a handful of moves a year.
    static let lookback = 500

    /// A move that must be resumed or abandoned before another starts.
    struct Unfinished {
        let record: RunRecord
        let why: String
    }

    enum Verdict {
        case proceed
        /// The plan's newest finished move (succeeded or degraded) went to the target region.
        case alreadyThere(RunRecord)
    }

    /// Refuses (exit 7) while a move other than `abandoning` is unfinished; otherwise says whether
    /// there is anything to do. A move still executing elsewhere is a held lease (exit 7 too).
    func check(to: String, abandoning: Set<String>, now: Date = Date()) async throws -> Verdict {
        let records = try await store.runs(lockScope: scope, limit: Self.lookback)
        let known = Set(records.map(\.id))
        if let stranger = abandoning.first(where: { !known.contains($0) }) {
            throw RunEnded(status: .usage, message: "--abandon \(stranger): no run of \(scope) has that id (`drctl runs` lists them)")
        }
        var unfinished: [Unfinished] = []
        for record in records {
            guard let why = try await unfinishedReason(record, now: now) else {
                if abandoning.contains(record.id) {
                    throw RunEnded(status: .usage, message: "--abandon \(record.id): that run is \(record.status.rawValue), not unfinished")
                }
                continue
            }
            if !abandoning.contains(record.id) { unfinished.append(Unfinished(record: record, why: why)) }
        }
        if !unfinished.isEmpty {
            throw RunEnded(status: .lockHeld, message: try await refusal(unfinished))
        }
        guard let newest = records.first(where: { !abandoning.contains($0.id) && $0.status.isFinal }),
              newest.status == .succeeded || newest.status == .degraded,
              try await target(of: newest.id) == to else { return .proceed }
        return .alreadyThere(newest)
    }

    /// Why `record` blocks a new move, or nil when it does not.
    private func unfinishedReason(_ record: RunRecord, now: Date) async throws -> String? {
        switch record.status {
        case .running:
            // Alive (its process, or an unexpired lease on another host): the lease decides, as for any start.
            if let holder = try await store.liveLeaseHolder(scope: scope, host: ThisHost.name, now: now), holder.runId == record.id {
                throw LeaseHeldError(scope: scope, holder: holder)
            }
            return "still marked running, but the process that ran it is gone (a crash or kill)"
        case .paused: return "paused, waiting for an approval"
        case .interrupted: return "interrupted"
        case .unknown: return "stopped with an outcome unknown"
        case .failed:
            // A failed move that changed nothing (no intent journaled) leaves nothing to finish.
            let journal = try await store.journal(runId: record.id)
            return journal.contains { $0.kind == .intent } ? "failed after changing things (`resume` retries what failed)" : nil
        case .succeeded, .degraded, .aborted:
            return nil
        }
    }

    private func refusal(_ unfinished: [Unfinished]) async throws -> String {
        var lines = ["an earlier move of this plan did not finish; resume it rather than start another (which would act again):"]
        for item in unfinished {
            let to = try await target(of: item.record.id).map { " to \($0)" } ?? ""
            lines.append("  run \(item.record.id) (\(item.record.mode)\(to), started \(Self.timestamp(item.record.createdAt)) by "
                         + "\(item.record.startedBy)@\(item.record.host)) is \(item.why)")
        }
        let first = unfinished[0].record.id
        lines.append("`drctl resume \(first)` continues it; or pass `--abandon \(first)` to mark it aborted (journaled, no compensations) and start a new move")
        return lines.joined(separator: "\n")
    }

    /// The region a move went to, as its preflight note says.
    func target(of runId: String) async throws -> String? {
        try await store.journal(runId: runId).first { $0.kind == .note && $0.detail["event"]?.stringValue == "preflight" }?
            .detail["to"]?.stringValue
    }

    /// Marks an unfinished move aborted without running compensations — the operator chose to
    /// start over — and journals who did it and why.
    func abandon(_ runId: String, by: String, reason: String, now: Date = Date()) async throws {
        guard let record = try await store.run(runId) else { return }
        var machine = RunStateMachine(state: record.status)
        let to = try machine.handle(.abort)
        try await store.append(JournalEntry(runId: runId, at: now, kind: .note, detail: [
            "event": .string("abandoned"), "by": .string(by), "reason": .string(reason), "compensations": .string("none"),
        ]))
        try await store.append(JournalEntry(runId: runId, at: now, kind: .runStatus, detail: [
            "from": .string(record.status.rawValue), "to": .string(to.rawValue), "reason": .string("abandoned by \(by): \(reason)"),
        ]))
        try await store.updateRun(runId, status: to, at: now)
        try? await store.releaseLease(scope: scope, runId: runId)
    }

    static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
