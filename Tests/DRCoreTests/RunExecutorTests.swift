import Foundation
import Testing
@testable import DRCore

/// The executor on the real SQLite store: DAG order, the concurrency bound, `when`, every failure
/// policy, rollback order, retries and resume, with an action that records what happens.
struct RunExecutorTests {
    /// Records begin/end of every act, and how many ran at once.
    actor Recorder {
        private(set) var log: [String] = []
        private(set) var running = 0
        private(set) var peak = 0
        private var failuresLeft: [String: Int] = [:]
        /// When set, each act holds until this many run at once (then the gate stays open), so
        /// the peak is decided by the executor's bound, not by how fast this machine is.
        var gate: Int?
        private var gateOpen = false
        private var held: [CheckedContinuation<Void, Never>] = []

        func begin(_ name: String) {
            log.append("begin \(name)")
            running += 1
            peak = max(peak, running)
            if let gate, running >= gate { openGate() }
        }

        func setGate(_ count: Int) { gate = count }

        /// Waits at the gate (at most `seconds`: a bound below the gate must not hang the test).
        func waitAtGate(seconds: Double) async {
            guard gate != nil, !gateOpen else { return }
            Task { try? await Task.sleep(for: .seconds(seconds)); self.openGate() }
            await withCheckedContinuation { held.append($0) }
        }

        private func openGate() {
            gateOpen = true
            let waiting = held
            held.removeAll()
            waiting.forEach { $0.resume() }
        }
        func end(_ name: String) { log.append("end \(name)"); running -= 1 }
        func note(_ text: String) { log.append(text) }
        func failTimes(_ name: String, _ times: Int) { failuresLeft[name] = times }
        func shouldFail(_ name: String) -> Bool {
            guard let left = failuresLeft[name], left > 0 else { return false }
            failuresLeft[name] = left - 1
            return true
        }
        var ended: [String] { log.filter { $0.hasPrefix("end ") }.map { String($0.dropFirst(4)) } }
    }

    struct RecordingAction: RunbookAction {
        let name = "test.op"
        let isMutating = true
        let parameters: [ActionCatalog.Parameter] = [.init("name", .string, required: true), .init("ms", .int),
                                                     .init("fail", .bool), .init("kind", .string), .init("degraded", .string)]
        let recorder: Recorder

        func describe(_ arguments: [String: RunValue]) -> String { "op \(arguments["name"]?.description ?? "")" }

        func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
            let name = try invocation.string("name")
            await recorder.begin(name)
            await recorder.waitAtGate(seconds: 10)
            try await Task.sleep(for: .milliseconds(invocation.arguments["ms"]?.intValue ?? 20))
            await recorder.end(name)
            let failNow = await recorder.shouldFail(name)
            if invocation.arguments["fail"]?.boolValue == true || failNow {
                throw ActionError(ActionError.Kind(rawValue: invocation.arguments["kind"]?.stringValue ?? "permanent") ?? .permanent,
                                  "\(name) failed on purpose")
            }
            if let reason = invocation.arguments["degraded"]?.stringValue { return ["name": .string(name), "degraded": .string(reason)] }
            return ["name": .string(name)]
        }

        func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] { acted }
    }

    struct Harness {
        let directory: URL
        let store: SQLiteStateStore
        let recorder = Recorder()
        var registry: ActionRegistry

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-exec-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            store = try SQLiteStateStore(path: directory.appendingPathComponent("state.db").path)
            registry = ActionRegistry.builtIns
            registry.register(RecordingAction(recorder: recorder))
        }

        func load(_ yaml: String) throws -> Runbook {
            try RunbookLoader.parse(text: yaml, path: "test.yaml", catalog: registry.catalog)
        }

        func start(_ runbook: Runbook, concurrency: Int = 4, autoApprove: Bool = true,
                   inputs: [String: RunValue] = [:], prompter: any ApprovalPrompter = NoPrompter(),
                   store: (any StateStore)? = nil) async throws -> (String, RunStatus) {
            let id = "run-\(UUID().uuidString.prefix(8))"
            let now = Date()
            try await self.store.createRun(RunRecord(id: id, runbookName: runbook.name, runbookPath: "test.yaml", runbookDigest: runbook.source.digest,
                                                runbookText: "", inputs: inputs, status: .running, createdAt: now, updatedAt: now,
                                                startedBy: "tester", host: "test", mode: "run", lockScope: "\(runbook.name)-\(id)"))
            return (id, try await resume(id, runbook, concurrency: concurrency, autoApprove: autoApprove, inputs: inputs,
                                         prompter: prompter, store: store))
        }

        func resume(_ id: String, _ runbook: Runbook, concurrency: Int = 4, autoApprove: Bool = true,
                    inputs: [String: RunValue] = [:], prompter: any ApprovalPrompter = NoPrompter(), tolerate: Set<String> = [],
                    store: (any StateStore)? = nil) async throws -> RunStatus {
            let executor = RunExecutor(runbook: runbook, run: try await self.store.run(id)!, journal: try await self.store.journal(runId: id),
                                       environment: EngineEnvironment(
                                           store: store ?? self.store, registry: registry,
                                           configuration: EngineConfiguration(concurrency: concurrency, autoApprove: autoApprove, operatorName: "tester"),
                                           prompter: prompter, observer: SilentObserver(), services: ActionServices(messages: { _ in }),
                                           interruption: InterruptionFlag()))
            try await executor.tolerateFailures(tolerate)
            return try await executor.execute(lockScope: "\(runbook.name)-\(id)")
        }

        func steps(_ id: String) async throws -> [String: JournalReplay.StepRecord] {
            JournalReplay(entries: try await store.journal(runId: id)).steps
        }
    }

    struct SilentObserver: RunObserver { func handle(_ event: EngineEvent) {} }

    @Test func stepsRunAfterTheirNeeds() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: order
        steps:
          - { id: c, action: test.op, with: { name: c }, needs: [b] }
          - { id: a, action: test.op, with: { name: a } }
          - { id: b, action: test.op, with: { name: b }, needs: [a] }
          - { id: d, action: test.op, with: { name: d }, needs: [a, c] }
        """)
        let (id, status) = try await harness.start(runbook)
        #expect(status == .succeeded)
        #expect(await harness.recorder.ended == ["a", "b", "c", "d"])
        let steps = try await harness.steps(id)
        #expect(steps.values.allSatisfy { $0.state == .succeeded })
        #expect(steps["d"]?.outputs["name"] == .string("d"))
    }

    @Test func concurrencyIsBounded() async throws {
        let harness = try Harness()
        let steps = (1...8).map { "  - { id: s\($0), action: test.op, with: { name: s\($0), ms: 150 } }" }.joined(separator: "\n")
        let runbook = try harness.load("name: wide\nsteps:\n\(steps)")
        await harness.recorder.setGate(3)
        let (_, status) = try await harness.start(runbook, concurrency: 3)
        #expect(status == .succeeded)
        #expect(await harness.recorder.peak == 3)
        let unbounded = try Harness()
        await unbounded.recorder.setGate(8)
        _ = try await unbounded.start(try unbounded.load("name: wide\nsteps:\n\(steps)"), concurrency: 8)
        #expect(await unbounded.recorder.peak == 8)
    }

    @Test func aStepThatFailsBeforeItStartsFreesItsSlotForTheNextReadyStep() async throws {
        let harness = try Harness()
        // With one slot, `a` (whose argument cannot be evaluated) and `b` are ready together:
        // `a` fails before it starts and `b` still runs.
        let runbook = try harness.load("""
        name: slots
        steps:
          - { id: x, action: test.op, with: { name: x } }
          - { id: a, action: test.op, with: { name: "${{ steps.x.outputs.nothing }}" }, needs: [x], on_failure: continue }
          - { id: b, action: test.op, with: { name: b }, needs: [x] }
        """)
        let (id, _) = try await harness.start(runbook, concurrency: 1)
        let steps = try await harness.steps(id)
        #expect(steps["a"]?.state == .failed, "\(String(describing: steps["a"]))")
        #expect(steps["b"]?.state == .succeeded)
        #expect(await harness.recorder.ended == ["x", "b"])
    }

    @Test func whenFalseSkipsTheStepAndItsDependents() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: conditional
        inputs: { fail_over: { type: bool, default: false } }
        steps:
          - { id: a, action: test.op, with: { name: a } }
          - { id: b, action: test.op, with: { name: b }, needs: [a], when: "${{ inputs.fail_over }}" }
          - { id: c, action: test.op, with: { name: c }, needs: [b] }
          - { id: d, action: test.op, with: { name: d }, needs: [a], when: "${{ steps.a.outputs.name == 'a' }}" }
        """)
        let (id, status) = try await harness.start(runbook, inputs: ["fail_over": .bool(false)])
        #expect(status == .succeeded)
        let steps = try await harness.steps(id)
        #expect(steps["b"]?.state == .skipped)
        #expect(steps["c"]?.state == .skipped)
        #expect(steps["d"]?.state == .succeeded)
        #expect(await harness.recorder.ended.sorted() == ["a", "d"])
    }

    @Test func abortPolicyStopsTheRunAndLeavesDependentsUnrun() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: abort
        steps:
          - { id: a, action: test.op, with: { name: a, fail: true }, on_failure: abort }
          - { id: b, action: test.op, with: { name: b }, needs: [a] }
          - { id: slow, action: test.op, with: { name: slow, ms: 300 } }
        """)
        let (id, status) = try await harness.start(runbook)
        #expect(status == .failed)
        let steps = try await harness.steps(id)
        #expect(steps["a"]?.state == .failed)
        #expect(steps["b"] == nil || steps["b"]?.state == .pending)
        #expect(steps["slow"]?.state == .succeeded)   // already running: finishes, is not abandoned
    }

    @Test func continuePolicyRunsIndependentStepsAndEndsDegraded() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: continue
        steps:
          - { id: notify, action: test.op, with: { name: notify, fail: true }, on_failure: continue }
          - { id: after, action: test.op, with: { name: after }, needs: [notify] }
          - { id: other, action: test.op, with: { name: other } }
          - { id: last, action: test.op, with: { name: last }, needs: [other] }
        """)
        let (id, status) = try await harness.start(runbook)
        // A tolerated failure (and `after`, which did not run because of it) is not a full success.
        #expect(status == .degraded)
        let steps = try await harness.steps(id)
        #expect(steps["notify"]?.state == .failed)
        #expect(steps["after"]?.state == .skipped)
        #expect(steps["last"]?.state == .succeeded)
    }

    @Test func rollbackCompensatesCompletedStepsNewestFirst() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: rollback
        steps:
          - { id: one, action: test.op, with: { name: one }, compensate: { action: test.op, with: { name: undo-one } } }
          - { id: two, action: test.op, with: { name: two }, needs: [one], compensate: { action: test.op, with: { name: undo-two } } }
          - { id: plain, action: test.op, with: { name: plain }, needs: [two] }
          - { id: three, action: test.op, with: { name: three }, needs: [plain], compensate: { action: test.op, with: { name: undo-three } } }
          - { id: boom, action: test.op, with: { name: boom, fail: true }, needs: [three], on_failure: rollback }
        """)
        let (id, status) = try await harness.start(runbook)
        #expect(status == .failed)
        #expect(await harness.recorder.ended == ["one", "two", "plain", "three", "boom", "undo-three", "undo-two", "undo-one"])
        let steps = try await harness.steps(id)
        #expect(steps["one"]?.compensated == true)
        #expect(steps["plain"]?.compensated == false)
    }

    @Test func transientFailuresAreRetriedPermanentOnesAreNot() async throws {
        let harness = try Harness()
        await harness.recorder.failTimes("flaky", 2)
        let runbook = try harness.load("""
        name: retry
        steps:
          - { id: flaky, action: test.op, with: { name: flaky, kind: transient }, retry: { attempts: 3, backoff: 10ms } }
          - { id: broken, action: test.op, with: { name: broken, fail: true }, retry: { attempts: 3, backoff: 10ms }, needs: [flaky] }
        """)
        let (id, status) = try await harness.start(runbook)
        #expect(status == .failed)
        let steps = try await harness.steps(id)
        #expect(steps["flaky"]?.state == .succeeded)
        #expect(steps["flaky"]?.attempt == 3)
        #expect(steps["broken"]?.attempt == 1)
        #expect(await harness.recorder.ended.filter { $0 == "flaky" }.count == 3)
    }

    @Test func approvalWithoutAnyonePausesAndAJournaledApprovalContinues() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: gated
        steps:
          - { id: before, action: test.op, with: { name: before } }
          - { id: gate, action: approve, needs: [before], with: { summary: "promote", irreversible: true, resource: db-1 } }
          - { id: after, action: test.op, with: { name: after }, needs: [gate] }
        """)
        let (id, status) = try await harness.start(runbook, autoApprove: false)
        #expect(status == .paused)
        #expect(try await harness.steps(id)["gate"]?.state == .waiting)
        #expect(await harness.recorder.ended == ["before"])

        let request = ApprovalRequest(runId: id, stepId: "gate", summary: "promote", irreversible: true, resource: "db-1")
        try await harness.store.append(request.journalEntry(.approved(by: "alice"), via: "approve", at: Date()))
        #expect(try await harness.resume(id, runbook, autoApprove: false) == .succeeded)
        let steps = try await harness.steps(id)
        #expect(steps["gate"]?.outputs["approved_by"] == .string("alice"))
        #expect(await harness.recorder.ended == ["before", "after"])
    }

    @Test func aStepInDoubtIsObservedNotRepeated() async throws {
        // The journal of a run killed between "gate"'s intent and its outcome.
        let harness = try Harness()
        let directory = harness.directory.path
        let runbook = try harness.load("""
        name: doubt
        steps:
          - id: write
            action: exec
            with: { command: "echo once >> \(directory)/effects", observe: "grep -q once \(directory)/effects" }
        """)
        try "once\n".write(toFile: "\(directory)/effects", atomically: true, encoding: .utf8)   // it did act
        let id = "run-doubt"
        let now = Date()
        try await harness.store.createRun(RunRecord(id: id, runbookName: "doubt", runbookPath: "test.yaml", runbookDigest: runbook.source.digest,
                                                    runbookText: "", inputs: [:], status: .running, createdAt: now, updatedAt: now,
                                                    startedBy: "tester", host: "test", mode: "run", lockScope: "doubt-\(id)"))
        try await harness.store.append(JournalEntry(runId: id, at: now, kind: .runStatus, detail: ["to": .string("running")]))
        try await harness.store.append(JournalEntry(runId: id, at: now, kind: .stepStatus, stepId: "write", attempt: 1,
                                                    detail: ["from": .string("pending"), "to": .string("running")]))
        try await harness.store.append(JournalEntry(runId: id, at: now, kind: .intent, stepId: "write", attempt: 1,
                                                    detail: ["action": .string("exec")]))
        #expect(try await harness.resume(id, runbook) == .succeeded)
        #expect(try String(contentsOfFile: "\(directory)/effects", encoding: .utf8) == "once\n")
        let journal = try await harness.store.journal(runId: id)
        #expect(journal.contains { $0.kind == .outcome && $0.detail["observed"] == .bool(true) })
    }

    @Test func aSecondRunOnTheSameLeaseIsRefused() async throws {
        let harness = try Harness()
        let holder = LeaseHolder(runId: "someone-else", holder: "bob", host: "other", pid: 1, acquiredAt: Date(),
                                 expiresAt: Date().addingTimeInterval(60))
        let runbook = try harness.load("name: locked\nsteps:\n  - { id: a, action: test.op, with: { name: a } }")
        let id = "run-locked"
        _ = try await harness.store.acquireLease(scope: "locked-\(id)", holder: holder, ttl: 60, now: Date())
        let now = Date()
        try await harness.store.createRun(RunRecord(id: id, runbookName: "locked", runbookPath: "t", runbookDigest: "", runbookText: "",
                                                    inputs: [:], status: .running, createdAt: now, updatedAt: now, startedBy: "t",
                                                    host: "t", mode: "run", lockScope: "locked-\(id)"))
        await #expect(throws: LeaseHeldError.self) { _ = try await harness.resume(id, runbook) }
        #expect(await harness.recorder.ended.isEmpty)
    }
}

extension RunExecutorTests {
    @Test func childRunbookRunsAsAChildRunAndPassesOutputsUp() async throws {
        let harness = try Harness()
        let dir = harness.directory
        try """
        name: child
        inputs: { region: { type: string } }
        steps:
          - { id: work, action: test.op, with: { name: "child-${{ inputs.region }}" } }
        outputs: { done_in: "${{ inputs.region }}" }
        """.write(to: dir.appendingPathComponent("child.yaml"), atomically: true, encoding: .utf8)
        let parentPath = dir.appendingPathComponent("parent.yaml").path
        try """
        name: parent
        steps:
          - { id: first, action: test.op, with: { name: first } }
          - { id: nested, action: run, needs: [first], with: { runbook: child.yaml, inputs: { region: us-west-2 } } }
          - { id: last, action: check, needs: [nested], with: { that: "${{ steps.nested.outputs.done_in == 'us-west-2' }}" } }
        """.write(toFile: parentPath, atomically: true, encoding: .utf8)
        let runbook = try RunbookLoader.load(path: parentPath, catalog: harness.registry.catalog)
        let (id, status) = try await harness.start(runbook)
        #expect(status == .succeeded)
        #expect(await harness.recorder.ended == ["first", "child-us-west-2"])
        let child = try #require(try await harness.store.run("\(id).nested"))
        #expect(child.status == .succeeded)
        #expect(child.runbookName == "child")
        let steps = try await harness.steps(id)
        #expect(steps["nested"]?.outputs["run_id"] == .string("\(id).nested"))
        #expect(steps["last"]?.state == .succeeded)
    }
}
