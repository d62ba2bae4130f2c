import Foundation
import Testing

/// Crash-point sweeps: drctl is SIGKILLed at every journal append of a reference runbook in turn
/// (before and after each), then `drctl resume RUN --yes` runs until the run stops. Every point
/// must end as the uninterrupted run did — same exit code, run status and step statuses — with
/// every observed side effect exactly once. The points come from the run itself (its number of
/// appends), so a runbook or engine change that adds journal writes is swept without editing.
@Suite("Crash-point sweep (SQLite)")
struct CrashPointSweepTests {
    /// prepare → (left ∥ right ∥ flaky) ; flaky → after-flaky ; (left, right) → settle (wait) →
    /// gate (check) → promote → announce. `flaky` fails and is tolerated (`on_failure: continue`),
    /// so `after-flaky` is skipped and the run ends degraded (exit 13) — and every resume re-admits
    /// both, which the sweep checks does not change the end. `branches` > 1 (the bench) adds more
    /// parallel chains of observed steps.
    static func referenceRunbook(effects: String, branches: Int = 1) -> String {
        var text = "name: crash-sweep\nsteps:\n"
        text += observedStep("prepare", effects: effects)
        var joined = ["left", "right"]
        text += observedStep("left", needs: ["prepare"], effects: effects)
        text += observedStep("right", needs: ["prepare"], effects: effects)
        for branch in stride(from: 2, through: branches, by: 1) {
            var previous = "prepare"
            for link in 1...3 {
                let id = "b\(branch)-\(link)"
                text += observedStep(id, needs: [previous], effects: effects)
                previous = id
            }
            joined.append(previous)
        }
        text += "  - { id: flaky, action: exec, needs: [prepare], on_failure: continue, with: { command: \"exit 3\", observe: \"false\" } }\n"
        text += observedStep("after-flaky", needs: ["flaky"], effects: effects)
        text += "  - { id: settle, action: wait, needs: [\(joined.joined(separator: ", "))], with: { duration: 300ms } }\n"
        text += "  - { id: gate, action: check, needs: [settle], with: { that: \"${{ steps.left.status == 'succeeded' && steps.right.status == 'succeeded' }}\" } }\n"
        text += observedStep("promote", needs: ["gate"], effects: effects)
        if branches > 1 {
            text += "  - { id: settle-again, action: wait, needs: [promote], with: { duration: 200ms } }\n"
            text += observedStep("announce", needs: ["settle-again"], effects: effects)
        } else {
            text += observedStep("announce", needs: ["promote"], effects: effects)
        }
        return text
    }

    /// An exec step that appends its id to the effects file once, and whose `observe` finds it there.
    static func observedStep(_ id: String, needs: [String] = [], effects: String) -> String {
        let needsText = needs.isEmpty ? "" : ", needs: [\(needs.joined(separator: ", "))]"
        return "  - { id: \(id), action: exec\(needsText), with: { command: \"echo \(id) >> \(effects)\", observe: \"grep -qx \(id) \(effects)\" } }\n"
    }

    /// prepare → once → announce, where `once` has no `observe`: after a crash between its intent
    /// and its outcome nothing can tell whether it ran.
    static func unobservedRunbook(effects: String) -> String {
        "name: crash-sweep-unobserved\nsteps:\n"
            + observedStep("prepare", effects: effects)
            + "  - { id: once, action: exec, needs: [prepare], with: { command: \"echo once >> \(effects)\" } }\n"
            + observedStep("announce", needs: ["once"], effects: effects)
    }

    @Test("killed at every journal append, the reference runbook resumes to the uninterrupted run's end, each observed effect once")
    func everyPointResumesToTheSameEnd() throws {
        let sweep = StoreSweep(runbook: { Self.referenceRunbook(effects: $0, branches: CrashSweepScale.full ? 4 : 1) })
        try Self.sweepTheReferenceRunbook(sweep, label: "SQLite")
    }

    /// The reference run's end is the expected one (degraded by `flaky`, each effect once); then
    /// every point, killed there and resumed, ends exactly as it did.
    static func sweepTheReferenceRunbook(_ sweep: StoreSweep, label: String, extra: [String: String] = [:], killed: Bool = true,
                                         ciStride: Int? = nil) throws {
        let reference = try sweep.reference()
        #expect(reference.ending.exitStatus == 13, "\(reference.ending)")
        #expect(reference.ending.runStatus == "degraded")
        #expect(reference.ending.steps["flaky"] == "failed" && reference.ending.steps["after-flaky"] == "skipped", "\(reference.ending)")
        #expect(reference.ending.effects.values.allSatisfy { $0 == 1 } && reference.ending.effects.count >= 5, "\(reference.ending)")
        // A runbook this size journals far more than this; fewer means the hook counts wrongly.
        #expect(reference.appends >= 20, "an uninterrupted run made \(reference.appends) journal appends")

        let started = Date()
        let results = sweep.sweep(reference, extra: extra, ciStride: ciStride)
        var wrong: [CrashPoint] = []
        for (point, result) in results {
            guard let result = try? result.get() else { Issue.record("\(point): \(result)"); continue }
            if killed {
                #expect(result.first.killedBySignal && result.first.stderr.contains("crash point \(point.append)"),
                        "\(point): drctl was not stopped there\n\(describe(point, result))")
            }
            if result.ending != reference.ending {
                wrong.append(point)
                Issue.record("\(point): expected \(reference.ending)\n\(describe(point, result))")
            }
        }
        print("crash sweep (\(label), \(CrashSweepScale.full ? "bench" : "CI") runbook): \(reference.appends) appends, \(results.count) of \(2 * reference.appends) points, "
              + "\(String(format: "%.1f", Date().timeIntervalSince(started))) s at width \(CrashSweepScale.width); "
              + "\(wrong.isEmpty ? "every point ended as the uninterrupted run" : "wrong at \(wrong.map(\.description).joined(separator: ", "))")")
    }

    @Test("an exec step without observe, killed at any point, runs once or stops unknown (exit 6) — never twice")
    func unobservedStepNeverRunsTwice() throws {
        let sweep = StoreSweep(runbook: Self.unobservedRunbook)
        let reference = try sweep.reference()
        #expect(reference.ending.exitStatus == 0 && reference.ending.effects == ["prepare": 1, "once": 1, "announce": 1], "\(reference.ending)")

        var twice: [CrashPoint] = []
        for (point, result) in sweep.sweep(reference) {
            guard let result = try? result.get(), let ending = result.ending else { Issue.record("\(point): no result"); continue }
            #expect(result.first.killedBySignal, "\(point): drctl was not stopped there")
            #expect(ending.effects["prepare"] == 1 && (ending.effects["announce"] ?? 0) <= 1, "\(point): \(describe(point, result))")
            let once = ending.effects["once"] ?? 0
            if once > 1 { twice.append(point) }
            let stoppedUnknown = ending.exitStatus == 6 && ending.runStatus == "unknown"
            #expect(ending == reference.ending || (stoppedUnknown && once <= 1), "\(point): \(describe(point, result))")
        }
        #expect(twice.isEmpty, "the unobserved step ran twice when drctl was killed \(twice.map(\.description).joined(separator: ", "))")
    }
}

/// A sweep of one runbook: the reference run and each point in a directory and a store of its own.
struct StoreSweep: Sendable {
    /// The runbook's text, given the effects file's path.
    let runbook: @Sendable (String) -> String
    /// A fresh store for one run: its `--state` value and extra environment (default: a SQLite
    /// file in the run's directory).
    var makeStore: @Sendable (RunbookWorkspace) throws -> (state: String, environment: [String: String]) = { ($0.statePath, [:]) }

    struct Reference {
        let ending: RunEnding
        let appends: Int
    }

    /// The uninterrupted run: how it ends and how many journal appends it makes.
    func reference() throws -> Reference {
        let workspace = try RunbookWorkspace()
        let countFile = workspace.directory.appendingPathComponent("appends").path
        let (run, file) = try prepare(workspace)
        let result = try run.execute(["run", file, "--yes"], extra: ["DRCTL_CRASH_COUNT_FILE": countFile])
        let appends = Int((try? String(contentsOfFile: countFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        let ending = try #require(result.ending, "the reference run: \(result.first.stderr)")
        return Reference(ending: ending, appends: appends)
    }

    /// One point: `extra` is the crash point's environment (and, for store restarts, the hook's).
    func run(at point: CrashPoint, expected: RunEnding, extra: [String: String] = [:]) throws -> CrashSweepRun.Result {
        let workspace = try RunbookWorkspace()
        let (run, file) = try prepare(workspace)
        return try withExtendedLifetime(workspace) {
            try run.execute(["run", file, "--yes"], extra: point.environment.merging(extra) { $1 }, expected: expected)
        }
    }

    /// Every point of `reference` (or, in CI with `ciStride`, a deterministic sample), `width` at a time.
    func sweep(_ reference: Reference, extra: [String: String] = [:], ciStride: Int? = nil) -> [(CrashPoint, Result<CrashSweepRun.Result, any Error>)] {
        let points = CrashSweepScale.full || ciStride == nil
            ? CrashPoint.all(total: reference.appends) : CrashPoint.sample(total: reference.appends, stride: ciStride ?? 1)
        let results = SweepProcess.parallelMap(points, width: CrashSweepScale.width) { point in
            Result { try run(at: point, expected: reference.ending, extra: extra) }
        }
        return Array(zip(points, results))
    }

    private func prepare(_ workspace: RunbookWorkspace) throws -> (CrashSweepRun, String) {
        let file = try workspace.write("sweep.yaml", runbook(workspace.effectsPath))
        let store = try makeStore(workspace)
        return (CrashSweepRun(state: store.state, home: workspace.directory, environment: store.environment, effectsPath: workspace.effectsPath), file)
    }
}
