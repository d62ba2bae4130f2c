import Foundation
import Testing
@testable import DRCore

/// `exec` steps cancelled mid-command, and exec steps left in doubt by a crash, through the real
/// executor, SQLite store and `/bin/sh`.
struct InDoubtExecTests {
    struct Harness {
        let directory: URL
        let store: SQLiteStateStore

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-doubt-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            store = try SQLiteStateStore(path: directory.appendingPathComponent("state.db").path)
        }

        var path: String { directory.path }

        var registry: ActionRegistry = {
            var registry = ActionRegistry.builtIns
            registry.register(BlindAction())
            return registry
        }()

        func load(_ yaml: String) throws -> Runbook {
            try RunbookLoader.parse(text: yaml, path: "test.yaml", catalog: registry.catalog)
        }

        func lines(_ name: String) -> [String] {
            ((try? String(contentsOfFile: "\(path)/\(name)", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        /// A run record plus the journal of a process killed after `stepId`'s intent (and, when
        /// given, after it journaled the command it started).
        func crashedRun(_ runbook: Runbook, stepId: String, process: SpawnedProcess? = nil) async throws -> String {
            let id = "run-\(UUID().uuidString.prefix(8))"
            let now = Date()
            try await store.createRun(RunRecord(id: id, runbookName: runbook.name, runbookPath: "test.yaml", runbookDigest: runbook.source.digest,
                                                runbookText: "", inputs: [:], status: .running, createdAt: now, updatedAt: now,
                                                startedBy: "tester", host: "test", mode: "run", lockScope: "\(runbook.name)-\(id)"))
            try await store.append(JournalEntry(runId: id, at: now, kind: .runStatus, detail: ["to": .string("running")]))
            try await store.append(JournalEntry(runId: id, at: now, kind: .stepStatus, stepId: stepId, attempt: 1,
                                                detail: ["from": .string("pending"), "to": .string("running")]))
            try await store.append(JournalEntry(runId: id, at: now, kind: .intent, stepId: stepId, attempt: 1, detail: ["action": .string("exec")]))
            if let process {
                try await store.append(JournalEntry(runId: id, at: now, kind: .note, stepId: stepId, attempt: 1,
                                                    detail: ["event": .string("intent-detail"), "detail": .map(["process": .map(process.journalDetail)])]))
            }
            return id
        }

        func execute(_ id: String, _ runbook: Runbook, rerunUnknown: Set<String> = [], prompter: any ApprovalPrompter = NoPrompter(),
                     interruption: InterruptionFlag = InterruptionFlag(), messages: MessageLog = MessageLog()) async throws -> RunStatus {
            let executor = RunExecutor(runbook: runbook, run: try await store.run(id)!, journal: try await store.journal(runId: id),
                                       environment: EngineEnvironment(
                                           store: store, registry: registry,
                                           configuration: EngineConfiguration(operatorName: "tester", rerunUnknown: rerunUnknown),
                                           prompter: prompter, observer: messages,
                                           services: ActionServices(messages: { messages.handle(.message($0)) }),
                                           interruption: interruption))
            return try await executor.execute(lockScope: "\(runbook.name)-\(id)")
        }

        func start(_ runbook: Runbook, interruption: InterruptionFlag = InterruptionFlag()) async throws -> (String, RunStatus) {
            let id = "run-\(UUID().uuidString.prefix(8))"
            let now = Date()
            try await store.createRun(RunRecord(id: id, runbookName: runbook.name, runbookPath: "test.yaml", runbookDigest: runbook.source.digest,
                                                runbookText: "", inputs: [:], status: .running, createdAt: now, updatedAt: now,
                                                startedBy: "tester", host: "test", mode: "run", lockScope: "\(runbook.name)-\(id)"))
            return (id, try await execute(id, runbook, interruption: interruption))
        }

        /// The process the step's last attempt journaled (`intent-detail`) before its command ran.
        func journaledProcess(_ id: String, _ stepId: String) async throws -> SpawnedProcess? {
            let note = try await store.journal(runId: id).last { $0.stepId == stepId && $0.detail["event"] == .string("intent-detail") }
            guard case .map(let detail)? = note?.detail["detail"], case .map(let process)? = detail["process"] else { return nil }
            return SpawnedProcess(journalDetail: process)
        }

        func step(_ id: String, _ stepId: String) async throws -> JournalReplay.StepRecord {
            JournalReplay(entries: try await store.journal(runId: id)).steps[stepId] ?? .init()
        }
    }

    /// Collects the engine's messages (what the operator would read).
    final class MessageLog: RunObserver, @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func handle(_ event: EngineEvent) {
            if case .message(let line) = event { lock.withLock { lines.append(line) } }
        }
        var all: [String] { lock.withLock { lines } }
    }

    /// Changes something it cannot observe, and always loses its answer (appends to `file` first).
    struct BlindAction: RunbookAction {
        let name = "test.blind"
        let isMutating = true
        let parameters: [ActionCatalog.Parameter] = [.init("file", .string, required: true)]
        func describe(_ arguments: [String: RunValue]) -> String { "blind" }
        func canObserve(_ arguments: [String: RunValue]) -> Bool { false }
        func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
            let file = try invocation.string("file")
            let handle = FileHandle(forWritingAtPath: file) ?? { _ = FileManager.default.createFile(atPath: file, contents: nil); return FileHandle(forWritingAtPath: file)! }()
            handle.seekToEndOfFile()
            handle.write(Data("acted\n".utf8))
            try handle.close()
            throw ActionError(.outcomeUnknown, "the answer was lost")
        }
        func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] { acted }
    }

    @Test func anUnobservableActionWhoseOutcomeIsLostIsNotRetriedEvenWithRetryOnAny() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: lost
        steps:
          - { id: lost, action: test.blind, retry: { attempts: 3, backoff: 10ms, on: [any] }, with: { file: "\(harness.path)/effects" } }
        """)
        let (id, status) = try await harness.start(runbook)
        #expect(status == .unknown)
        #expect(harness.lines("effects") == ["acted"], "acted once; a retry would act blind again")
        #expect(try await harness.step(id, "lost").state == .unknown)
    }

    struct AnsweringPrompter: ApprovalPrompter {
        let answer: ApprovalAnswer?
        func requestApproval(_ request: ApprovalRequest) async -> ApprovalAnswer? { nil }
        func confirmRerun(_ request: RerunRequest) async -> ApprovalAnswer? { answer }
    }

    @Test func aStepTimeoutStopsTheCommandAndTheStepFailsAsTimedOut() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: slow
        steps:
          - { id: slow, action: exec, timeout: 300ms, with: { command: "exec sleep 5" } }
        """)
        let (id, status) = try await harness.start(runbook)
        #expect(status == .failed)
        let step = try await harness.step(id, "slow")
        #expect(step.state == .failed)
        #expect(step.error?.contains("timed out after 300ms") == true)
        #expect(!step.inDoubt, "the command was stopped and reaped: nothing of it is in doubt")
        let outcome = try await harness.store.journal(runId: id).last { $0.kind == .outcome }
        #expect(outcome?.detail["error"]?.stringValue?.contains("stopped") == true, "drctl stopped the command; it did not end by itself")
        // The pid journaled before the command ran (the shell, then `sleep` through exec).
        let pid = try #require(try await harness.journaledProcess(id, "slow")?.pid)
        #expect(LocalCommandTests.isGone(pid), "stopped and reaped")
    }

    @Test func aSecondInterruptStopsTheCommandAndLeavesTheStepInDoubt() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: stopped
        steps:
          - { id: long, action: exec, with: { command: "echo $$ > \(harness.path)/pid; exec sleep 30" } }
        """)
        let interruption = InterruptionFlag()
        Task {
            while !FileManager.default.fileExists(atPath: "\(harness.path)/pid") { try await Task.sleep(for: .milliseconds(10)) }
            interruption.raise()
            interruption.raise()
        }
        let (id, status) = try await harness.start(runbook, interruption: interruption)
        #expect(status == .interrupted)
        let step = try await harness.step(id, "long")
        #expect(step.state == .unknown)
        #expect(step.inDoubt)
        // The pid journaled before the command ran (the shell, then `sleep` through exec).
        let pid = try #require(try await harness.journaledProcess(id, "long")?.pid)
        #expect(LocalCommandTests.isGone(pid), "stopped and reaped")
    }

    @Test func resumeWaitsForTheCommandTheCrashedAttemptLeftRunningBeforeItObserves() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: survivor
        steps:
          - { id: write, action: exec, with: { command: "echo x >> \(harness.path)/effects", observe: "grep -q x \(harness.path)/effects" } }
        """)
        // What a crash leaves behind: the command still running in its own group; it writes once
        // the resume is seen waiting for it (the `go` file), however slow this machine is.
        let leftover = SpawnedBox()
        let orphan = Task {
            try await LocalCommand.run("while [ ! -f \(harness.path)/go ]; do sleep 0.02; done; echo x >> \(harness.path)/effects",
                                       environment: ["PATH": "/usr/bin:/bin"], timeout: 60) { await leftover.set($0) }
        }
        let process = try #require(await leftover.wait())
        let id = try await harness.crashedRun(runbook, stepId: "write", process: process)
        let messages = MessageLog()
        let releaser = Task {
            while !messages.all.contains(where: { $0.contains("still runs") }) { try await Task.sleep(for: .milliseconds(20)) }
            _ = FileManager.default.createFile(atPath: "\(harness.path)/go", contents: nil)
        }
        #expect(try await harness.execute(id, runbook, messages: messages) == .succeeded)
        releaser.cancel()
        _ = try await orphan.value
        #expect(harness.lines("effects") == ["x"], "the leftover command wrote once; resume observed it instead of writing again")
        #expect(messages.all.contains { $0.contains("waited") && $0.contains("process group \(process.pid)") }, "\(messages.all)")
        let journal = try await harness.store.journal(runId: id)
        #expect(journal.contains { $0.kind == .note && $0.detail["event"] == .string("in-doubt-settled") })
        #expect(journal.filter { $0.kind == .intent }.count == 1, "no second intent: it did not act again")
    }

    @Test func aLeftoverStillRunningAtTheStepDeadlineIsStopped() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: stubborn
        steps:
          - id: write
            action: exec
            timeout: 2s
            # Only the leftover is meant to hit the deadline; on a starved machine the command's own
            # attempt may too, and is then retried (observed first, so it still writes once).
            retry: { attempts: 5, backoff: 10ms, on: [timeout] }
            with: { command: "echo x >> \(harness.path)/effects", observe: "grep -q x \(harness.path)/effects" }
        """)
        let leftover = SpawnedBox()
        let orphan = Task {
            try await LocalCommand.run("exec sleep 30", environment: ["PATH": "/usr/bin:/bin"], timeout: 60) { await leftover.set($0) }
        }
        let process = try #require(await leftover.wait())
        let id = try await harness.crashedRun(runbook, stepId: "write", process: process)
        let messages = MessageLog()
        #expect(try await harness.execute(id, runbook, messages: messages) == .succeeded)
        let result = try await orphan.value
        #expect(result.termination == .signalled(SIGTERM), "stopped by the resume, not by its own end")
        #expect(messages.all.contains { $0.contains("still ran at the step's deadline; stopped it") }, "\(messages.all)")
        #expect(harness.lines("effects") == ["x"])
    }

    @Test func anExecWithoutObserveInDoubtStaysUnknownWithoutPermission() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: blind
        steps:
          - { id: blind, action: exec, with: { command: "echo x >> \(harness.path)/effects" } }
          - { id: after, action: exec, needs: [blind], with: { command: "echo after >> \(harness.path)/effects" } }
        """)
        let id = try await harness.crashedRun(runbook, stepId: "blind")
        #expect(try await harness.execute(id, runbook) == .unknown)
        #expect(harness.lines("effects").isEmpty, "neither acted again nor went on")
        let step = try await harness.step(id, "blind")
        #expect(step.state == .unknown)
        #expect(step.error?.contains("--rerun-unknown blind") == true)

        // Refused at a terminal: still unknown, and the refusal is journaled.
        #expect(try await harness.execute(id, runbook, prompter: AnsweringPrompter(answer: .denied(by: "carol", reason: "no"))) == .unknown)
        #expect(harness.lines("effects").isEmpty)

        // Allowed by --rerun-unknown: it runs once more and the run goes on.
        #expect(try await harness.execute(id, runbook, rerunUnknown: ["blind"]) == .succeeded)
        #expect(harness.lines("effects") == ["x", "after"])
        let approvals = try await harness.store.journal(runId: id).filter { $0.kind == .approval }
        #expect(approvals.map { $0.detail["decision"] } == [.string("denied"), .string("approved")])
        #expect(approvals.map { $0.detail["via"] } == [.string("terminal"), .string("--rerun-unknown")])
        #expect(approvals.allSatisfy { $0.detail["subject"] == .string("rerun") && $0.stepId == "blind" })
    }

    @Test func aTypedAnswerAtATerminalAllowsTheRerun() async throws {
        let harness = try Harness()
        let runbook = try harness.load("""
        name: asked
        steps:
          - { id: blind, action: exec, with: { command: "echo x >> \(harness.path)/effects" } }
        """)
        let id = try await harness.crashedRun(runbook, stepId: "blind")
        #expect(try await harness.execute(id, runbook, prompter: AnsweringPrompter(answer: .approved(by: "dave"))) == .succeeded)
        #expect(harness.lines("effects") == ["x"])
        let approval = try #require(try await harness.store.journal(runId: id).first { $0.kind == .approval })
        #expect(approval.detail["by"] == .string("dave"))
        #expect(approval.detail["shown"]?.stringValue?.contains("cannot observe") == true)
    }
}
