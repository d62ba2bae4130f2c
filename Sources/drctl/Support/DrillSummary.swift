import AWSProvider
import DRCore
import Foundation

/// What a drill measured and whether it cleaned up, from its journal: the `validation` and
/// `rpo-measured` notes, the summary note, and the printed summary. Used after `drill run` and
/// after `resume` of a drill.
enum DrillSummary {
    struct Report: Encodable {
        struct Check: Encodable {
            let name: String
            let step: String
            let state: String
            let passed: Bool
            let detail: String?
        }

        struct Teardown: Encodable {
            let database: String
            let instance: String
            let snapshot: String
            /// "teardown steps", "compensation", or "incomplete".
            let by: String
        }

        let run: String
        let status: String
        /// Start → the last validation step (or the restore) finished; nil when validation did not pass.
        let rtoSeconds: Double?
        let rpoSeconds: Double?
        let rpoNote: String?
        let validation: [Check]
        let teardown: [Teardown]
        var teardownDone: Bool { teardown.allSatisfy { $0.by != "incomplete" } }

        enum CodingKeys: String, CodingKey { case run, status, rtoSeconds, rpoSeconds, rpoNote, validation, teardown, teardownDone }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(run, forKey: .run)
            try container.encode(status, forKey: .status)
            try container.encode(rtoSeconds, forKey: .rtoSeconds)
            try container.encode(rpoSeconds, forKey: .rpoSeconds)
            try container.encode(rpoNote, forKey: .rpoNote)
            try container.encode(validation, forKey: .validation)
            try container.encode(teardown, forKey: .teardown)
            try container.encode(teardownDone, forKey: .teardownDone)
        }
    }

    /// The first note of a drill: what it creates (so `show` and reports name the resources).
    static func startNote(plan: DRPlan, drill: DrillRunbookGenerator.Drill, region: String) -> [String: RunValue] {
        ["event": .string("drill-started"), "plan": .string(plan.name), "region": .string(region),
         "instance_class": .string(plan.drill.instanceClass), "estimate": .duration(drill.estimate),
         "max_runtime": .duration(plan.drill.maxRuntime),
         "rpo": drill.rpoNotMeasuredReason.map(RunValue.string) ?? .string("measured by \(DrillRunbookGenerator.heartbeatAction)"),
         "resources": .list(drill.resources.map {
             .map(["database": .string($0.database), "region": .string($0.region), "source": .string($0.source),
                   "snapshot": .string($0.snapshot), "instance": .string($0.instance)])
         })]
    }

    static func make(entries: [JournalEntry], runId: String) -> Report {
        let replay = JournalReplay(entries: entries)
        let start = entries.first { $0.kind == .runStatus }?.at
        let started = entries.first { $0.kind == .note && $0.detail["event"]?.stringValue == "drill-started" }?.detail ?? [:]
        var checks: [Report.Check] = []
        var validated: [Date] = []
        var allPassed = true
        for (id, step) in replay.steps.sorted(by: { $0.key < $1.key }) where id.hasPrefix("check-") {
            let passed = step.state == .succeeded && step.outputs["passed"]?.boolValue != false
            allPassed = allPassed && passed
            if let ended = step.endedAt { validated.append(ended) }
            let detail = step.outputs["detail"]?.description ?? step.error
                ?? (step.outputs["lag_seconds"].map { "replication lag \($0)s, \(step.outputs["lag_bytes"]?.description ?? "?") bytes" })
            checks.append(.init(name: String(id.dropFirst("check-".count)), step: id, state: step.state.rawValue, passed: passed, detail: detail))
        }
        var rpo: Double?
        var rpoNote = started["rpo"]?.stringValue
        if let step = replay.steps["measure-rpo"] {
            if step.state == .succeeded || step.state == .compensated, let value = step.outputs["measured_rpo_seconds"]?.secondsValue {
                rpo = value
                rpoNote = nil
            } else {
                rpoNote = "not measured: \(step.error ?? step.state.rawValue)"
                allPassed = false
            }
            if let ended = step.endedAt { validated.append(ended) }
        }
        let restores = replay.steps.filter { $0.key.hasPrefix("restore-") }
        if validated.isEmpty { validated = restores.compactMap(\.value.endedAt) }
        let restored = !restores.isEmpty && restores.allSatisfy { $0.value.state == .succeeded || $0.value.state == .compensated }
        let rto = (allPassed && restored) ? start.flatMap { start in validated.max().map { $0.timeIntervalSince(start) } } : nil

        var teardown: [Report.Teardown] = []
        if case .list(let resources)? = started["resources"] {
            for case .map(let resource) in resources {
                let database = resource["database"]?.stringValue ?? "?"
                let steps = replay.steps
                let key = { (prefix: String) in DrillRunbookGenerator.stepId(prefix, database) }
                let by: String
                if steps[key("teardown-snapshot")]?.state == .succeeded && steps[key("teardown-instance")]?.state == .succeeded {
                    by = "teardown steps"
                } else if Self.gone(steps[key("claim-instance")], steps[key("teardown-instance")])
                            && Self.gone(steps[key("claim-snapshot")], steps[key("teardown-snapshot")]) {
                    by = "compensation"
                } else if steps[key("claim-snapshot")] == nil {
                    by = "nothing created"
                } else {
                    by = "incomplete"
                }
                teardown.append(.init(database: database, instance: resource["instance"]?.stringValue ?? "?",
                                      snapshot: resource["snapshot"]?.stringValue ?? "?", by: by))
            }
        }
        return Report(run: runId, status: replay.runStatus?.rawValue ?? "?", rtoSeconds: rto, rpoSeconds: rpo, rpoNote: rpoNote,
                      validation: checks, teardown: teardown)
    }

    /// Deleted by the teardown step or by the claim's compensation.
    private static func gone(_ claim: JournalReplay.StepRecord?, _ teardown: JournalReplay.StepRecord?) -> Bool {
        teardown?.state == .succeeded || claim?.state == .compensated
    }

    /// Journals the drill's notes (validation results, RPO, summary) once the run stopped, and
    /// prints the summary. Runs that stopped without a final status (paused, interrupted) get
    /// nothing journaled yet: their `resume` concludes them.
    static func conclude(store: any StateStore, runId: String, format: OutputFormat) async throws {
        let entries = try await store.journal(runId: runId)
        let report = make(entries: entries, runId: runId)
        let final = RunStatus(rawValue: report.status).map { $0.isFinal || $0 == .unknown } ?? false
        if final && !entries.contains(where: { $0.kind == .note && $0.detail["event"]?.stringValue == "drill-summary" }) {
            let now = Date()
            for check in report.validation {
                try await store.append(JournalEntry(runId: runId, at: now, kind: .note, detail: [
                    "event": .string("validation"), "check": .string(check.name), "step": .string(check.step),
                    "passed": .bool(check.passed), "detail": check.detail.map(RunValue.string) ?? .null]))
            }
            var rpoNote: [String: RunValue] = ["event": .string("rpo-measured"), "measured_rpo": report.rpoSeconds.map { .duration($0) } ?? .null]
            if let note = report.rpoNote { rpoNote["note"] = .string(note) }
            try await store.append(JournalEntry(runId: runId, at: now, kind: .note, detail: rpoNote))
            try await store.append(JournalEntry(runId: runId, at: now, kind: .note, detail: [
                "event": .string("drill-summary"), "rto": report.rtoSeconds.map { .duration($0) } ?? .null,
                "measured_rpo": report.rpoSeconds.map { .duration($0) } ?? .null,
                "validation_passed": .bool(!report.validation.isEmpty && report.validation.allSatisfy(\.passed)),
                "teardown_done": .bool(report.teardownDone)]))
        }
        guard format == .text else {
            try JSONOutput.print(report)
            return
        }
        print("\nDrill \(runId): \(report.status)")
        print("  RTO (start → validated): \(report.rtoSeconds.map(DurationText.format) ?? "not reached")")
        print("  RPO measured: \(report.rpoSeconds.map(DurationText.format) ?? (report.rpoNote ?? "not measured"))")
        if report.validation.isEmpty { print("  validation: no checks in the plan") }
        for check in report.validation {
            print("  validation \(check.name): \(check.passed ? "passed" : "FAILED (\(check.state))")\(check.detail.map { " — \($0)" } ?? "")")
        }
        for item in report.teardown {
            let text = item.by == "incomplete"
                ? "INCOMPLETE — `drctl resume \(runId)` finishes it, `drctl drill cleanup` finds leftovers by tag"
                : "done (\(item.by))"
            print("  teardown \(item.database) (\(item.instance), snapshot \(item.snapshot)): \(text)")
        }
    }
}
