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

        /// With `--output json` the summary is the run's last JSON line, keys in snake_case like the
        /// engine's events: `{"event":"summary","kind":"drill",…}`.
        enum CodingKeys: String, CodingKey {
            case event, kind, run, status, validation, teardown
            case rtoSeconds = "rto_seconds", rpoSeconds = "rpo_seconds", rpoNote = "rpo_note", teardownDone = "teardown_done"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode("summary", forKey: .event)
            try container.encode("drill", forKey: .kind)
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

    /// The first note of a drill: what it creates (so `show` and reports name the resources, and
    /// the summary knows which step deletes each of them).
    static func startNote(plan: DRPlan, drill: DrillComposer.Drill, site: Site) -> [String: RunValue] {
        ["event": .string("drill-started"), "plan": .string(plan.name), "region": .string(site.description),
         "instance_class": .string(plan.drill.instanceClass), "estimate": .duration(drill.estimate),
         "max_runtime": .duration(plan.drill.maxRuntime),
         "rpo": drill.rpoNotMeasuredReason.map(RunValue.string) ?? .string("measured by \(DrillComposer.heartbeatAction)"),
         "resources": .list(drill.resources.map { resource in
             var note: [String: RunValue] = ["database": .string(resource.database), "region": .string(resource.site), "source": .string(resource.source),
                                             "created": .list(resource.created.map {
                                                 .map(["kind": .string($0.kind), "name": .string($0.name), "claim": .string($0.claim), "teardown": .string($0.teardown)])
                                             })]
             // What evidence and `drill cleanup` read by name.
             for kind in ["snapshot", "instance"] { note[kind] = resource.name(of: kind).map(RunValue.string) }
             // The step that makes the copy (AWS: its restore, Google Cloud: its clone): the RTO ends
             // only once every copy exists.
             if let step = resource.endpoint?.step { note["copy"] = .string(step) }
             return .map(note)
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
        // One RPO step, or one per copy (`measure-rpo-DB`, with a url_template): the drill's RPO is
        // the worst copy's, and measured only when every copy's was.
        let rpoSteps = replay.steps.filter { $0.key == "measure-rpo" || $0.key.hasPrefix("measure-rpo-") }.sorted { $0.key < $1.key }
        if !rpoSteps.isEmpty {
            let measured = rpoSteps.compactMap { _, step in
                step.state == .succeeded || step.state == .compensated ? step.outputs["measured_rpo_seconds"]?.secondsValue : nil
            }
            // Per copy: one step for each copy the drill made (a copy whose step never ran is not measured).
            let perCopy = rpoSteps.contains { $0.key.hasPrefix("measure-rpo-") }
            let copies: Int
            if perCopy, case .list(let resources)? = started["resources"] { copies = resources.count } else { copies = rpoSteps.count }
            if measured.count == rpoSteps.count && rpoSteps.count >= copies {
                rpo = measured.max()
                rpoNote = nil
            } else if measured.count == rpoSteps.count {
                rpoNote = "not measured for every copy: \(rpoSteps.count) of \(copies)"
                allPassed = false
            } else {
                let missing = rpoSteps.first { _, step in !(step.state == .succeeded || step.state == .compensated)
                    || step.outputs["measured_rpo_seconds"]?.secondsValue == nil }!.value
                rpoNote = "not measured: \(missing.error ?? missing.state.rawValue)"
                allPassed = false
            }
            validated += rpoSteps.compactMap(\.value.endedAt)
        }
        // The copy steps the drill-started note names; drills journaled before it named them were
        // AWS's, whose copies are its `restore-*` steps.
        var copySteps: [String] = []
        if case .list(let resources)? = started["resources"] {
            for case .map(let resource) in resources { if let step = resource["copy"]?.stringValue { copySteps.append(step) } }
        }
        if copySteps.isEmpty { copySteps = replay.steps.keys.filter { $0.hasPrefix("restore-") }.sorted() }
        let restores = copySteps.map { (key: $0, value: replay.steps[$0]) }
        if validated.isEmpty { validated = restores.compactMap { $0.value?.endedAt } }
        let restored = !restores.isEmpty && restores.allSatisfy { $0.value?.state == .succeeded || $0.value?.state == .compensated }
        let rto = (allPassed && restored) ? start.flatMap { start in validated.max().map { $0.timeIntervalSince(start) } } : nil

        var teardown: [Report.Teardown] = []
        if case .list(let resources)? = started["resources"] {
            for case .map(let resource) in resources {
                let database = resource["database"]?.stringValue ?? "?"
                let created = Self.created(resource, database: database)
                let steps = replay.steps
                let by: String
                if created.allSatisfy({ steps[$0.teardown]?.state == .succeeded }) {
                    by = "teardown steps"
                } else if created.allSatisfy({ Self.gone(steps[$0.claim], steps[$0.teardown]) }) {
                    by = "compensation"
                } else if created.allSatisfy({ steps[$0.claim] == nil }) {
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

    /// The claim and teardown steps of what a drill created for one database. Drills journaled
    /// before providers contributed them (no `created` list) were AWS's, with these step ids.
    private static func created(_ resource: [String: RunValue], database: String) -> [(claim: String, teardown: String)] {
        if case .list(let items)? = resource["created"] {
            return items.compactMap { item in
                guard case .map(let fields) = item, let claim = fields["claim"]?.stringValue, let teardown = fields["teardown"]?.stringValue else { return nil }
                return (claim, teardown)
            }
        }
        return ["snapshot", "instance"].map { (StepIdentifiers.slug(["claim-\($0)", database]), StepIdentifiers.slug(["teardown-\($0)", database])) }
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
            try JSONOutput.line(report)
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
            let created = item.snapshot == "?" ? item.instance : "\(item.instance), snapshot \(item.snapshot)"
            print("  teardown \(item.database) (\(created)): \(text)")
        }
    }
}
