@testable import DRCore
import Foundation
import Testing

/// Issue 16, defect 9: a long wait shows its clock moving (a snapshot every second at least), the
/// last snapshot never names a finished step as running, and line outputs print a change at once
/// and otherwise a heartbeat a minute.
@Suite("Progress: ticks during long waits, heartbeat lines")
struct ProgressTickTests {
    final class Recorder: RunObserver, @unchecked Sendable {
        private let lock = NSLock()
        private var events: [EngineEvent] = []
        func handle(_ event: EngineEvent) {
            lock.lock()
            events.append(event)
            lock.unlock()
        }
        var snapshots: [ProgressSnapshot] {
            lock.lock()
            defer { lock.unlock() }
            return events.compactMap { if case .progress(let snapshot) = $0 { return snapshot } else { return nil } }
        }
    }

    @Test func aLongStepTicksAndTheLastSnapshotNamesNoFinishedStep() async throws {
        let recorder = Recorder()
        let harness = try RunExecutorTests.Harness()
        let runbook = try harness.load("""
        name: long-wait
        steps:
          - id: short
            action: notify
            with: { message: first }
          - id: long
            action: wait
            needs: [short]
            with: { duration: 1.6s }
        """)
        let now = Date()
        let record = RunRecord(id: "run-tick", runbookName: runbook.name, runbookPath: "test.yaml", runbookDigest: runbook.source.digest,
                               runbookText: "", inputs: [:], status: .running, createdAt: now, updatedAt: now,
                               startedBy: "tester", host: "test", mode: "run", lockScope: "tick")
        try await harness.store.createRun(record)
        var configuration = EngineConfiguration(operatorName: "tester")
        configuration.progressInterval = 0.25
        let executor = RunExecutor(runbook: runbook, run: record, journal: [], environment: EngineEnvironment(
            store: harness.store, registry: harness.registry, configuration: configuration, prompter: NoPrompter(), observer: recorder,
            services: ActionServices(messages: { _ in }), interruption: InterruptionFlag()))
        let status = try await executor.execute(lockScope: "tick")
        #expect(status == .succeeded)
        let during = recorder.snapshots.filter { $0.running == ["long"] }
        // 1.6 s at a 0.25 s tick: several snapshots, the clock moving in each.
        #expect(during.count >= 4, "\(recorder.snapshots)")
        #expect(zip(during, during.dropFirst()).allSatisfy { $0.elapsed < $1.elapsed })
        #expect(recorder.snapshots.last?.running == [])
        #expect(recorder.snapshots.last?.done == 2)
    }

    @Test func lineOutputsPrintChangesAtOnceAndOtherwiseAHeartbeatAMinute() {
        func snapshot(_ running: [String], done: Int, at elapsed: Double) -> ProgressSnapshot {
            ProgressSnapshot(running: running, done: done, total: 3, elapsed: elapsed, rtoBudget: nil, forecast: elapsed)
        }
        var policy = ProgressLinePolicy(heartbeat: 60)
        var printed: Bool
        printed = policy.shouldPrint(snapshot(["restore"], done: 1, at: 1))
        #expect(printed)
        // The same steps, the clock moving: nothing until a minute has passed.
        printed = policy.shouldPrint(snapshot(["restore"], done: 1, at: 2))
        #expect(!printed)
        printed = policy.shouldPrint(snapshot(["restore"], done: 1, at: 60.9))
        #expect(!printed)
        printed = policy.shouldPrint(snapshot(["restore"], done: 1, at: 61))
        #expect(printed)
        printed = policy.shouldPrint(snapshot(["restore"], done: 1, at: 62))
        #expect(!printed)
        // A change prints at once.
        printed = policy.shouldPrint(snapshot(["check"], done: 2, at: 63))
        #expect(printed)
        printed = policy.shouldPrint(snapshot([], done: 3, at: 64))
        #expect(printed)
        // Nothing running: no heartbeat.
        printed = policy.shouldPrint(snapshot([], done: 3, at: 200))
        #expect(!printed)
    }
}
