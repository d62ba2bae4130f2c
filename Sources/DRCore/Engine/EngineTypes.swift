import Foundation

public struct EngineConfiguration: Sendable {
    /// Steps running at once.
    public var concurrency: Int
    /// `--yes`: approvals are given by the operator who started the run.
    public var autoApprove: Bool
    /// `--approve STEP`: named pre-approvals.
    public var preApproved: Set<String>
    /// `--operator` or the OS user.
    public var operatorName: String
    public var host: String
    public var leaseTTL: Double
    /// A step without `timeout` gets this many seconds.
    public var defaultStepTimeout: Double
    /// `--rerun-unknown STEP`: in-doubt steps that cannot be observed and may act again (`--yes` never allows it).
    public var rerunUnknown: Set<String>
    /// While steps run, a progress snapshot at least this often (seconds), so that a long wait
    /// (a 20-minute restore) shows its clock moving; observers decide what to print of it.
    public var progressInterval: Double = 1

    public init(concurrency: Int = 4, autoApprove: Bool = false, preApproved: Set<String> = [], operatorName: String,
                host: String = ProcessInfo.processInfo.hostName, leaseTTL: Double = 60, defaultStepTimeout: Double = 3600,
                rerunUnknown: Set<String> = []) {
        self.concurrency = max(1, concurrency)
        self.autoApprove = autoApprove
        self.preApproved = preApproved
        self.operatorName = operatorName
        self.host = host
        self.leaseTTL = leaseTTL
        self.defaultStepTimeout = defaultStepTimeout
        self.rerunUnknown = rerunUnknown
    }
}

/// What an `approve` step shows and asks.
public struct ApprovalRequest: Sendable, Equatable {
    public let runId: String
    public let stepId: String
    public let summary: String
    /// Irreversible steps need the resource name typed, not just "yes".
    public let irreversible: Bool
    public let resource: String?

    public init(runId: String, stepId: String, summary: String, irreversible: Bool, resource: String?) {
        self.runId = runId
        self.stepId = stepId
        self.summary = summary
        self.irreversible = irreversible
        self.resource = resource
    }

    /// The journal entry that records a decision on this request: who, how, and what they saw.
    public func journalEntry(_ answer: ApprovalAnswer, via: String, at: Date) -> JournalEntry {
        var detail: [String: RunValue] = ["shown": .string(shown), "via": .string(via)]
        switch answer {
        case .approved(let by):
            detail["decision"] = .string("approved")
            detail["by"] = .string(by)
        case .denied(let by, let reason):
            detail["decision"] = .string("denied")
            detail["by"] = .string(by)
            detail["reason"] = .string(reason)
        }
        return JournalEntry(runId: runId, at: at, kind: .approval, stepId: stepId, detail: detail)
    }

    /// The exact text shown, journaled with the decision.
    public var shown: String {
        var text = "Step \(stepId) of run \(runId): \(summary)"
        if irreversible { text += "\nThis cannot be undone. Type \(resource ?? "the resource name") to approve." }
        return text
    }
}

public enum ApprovalAnswer: Sendable, Equatable {
    case approved(by: String)
    case denied(by: String, reason: String)
}

/// Asks a human. Returns nil when nobody can be asked here (no terminal): the run then pauses
/// until `drctl approve RUN STEP`.
public protocol ApprovalPrompter: Sendable {
    func requestApproval(_ request: ApprovalRequest) async -> ApprovalAnswer?
    /// Whether an in-doubt step that cannot be observed may act again; nil when nobody can be asked.
    func confirmRerun(_ request: RerunRequest) async -> ApprovalAnswer?
}

extension ApprovalPrompter {
    public func confirmRerun(_ request: RerunRequest) async -> ApprovalAnswer? { nil }
}

/// A prompter for non-interactive runs: never answers.
public struct NoPrompter: ApprovalPrompter {
    public init() {}
    public func requestApproval(_ request: ApprovalRequest) async -> ApprovalAnswer? { nil }
}

/// What the engine reports while it works; the CLI renders it (live terminal, plain lines, JSON).
public enum EngineEvent: Sendable {
    case runStarted(runId: String, runbook: String, resumed: Bool)
    case stepStarted(stepId: String, attempt: Int, summary: String)
    case stepRetrying(stepId: String, attempt: Int, delay: Double, error: String)
    case stepFinished(stepId: String, state: StepStateMachine.State, error: String?, duration: Double)
    case stepWaitingForApproval(stepId: String, request: ApprovalRequest)
    case progress(ProgressSnapshot)
    case message(String)
    case runFinished(runId: String, status: RunStatus, outputs: [String: RunValue])
}

public struct ProgressSnapshot: Sendable, Equatable {
    public let running: [String]
    public let done: Int
    public let total: Int
    public let elapsed: Double
    public let rtoBudget: Double?
    /// elapsed + the remaining critical path of step estimates.
    public let forecast: Double
}

public protocol RunObserver: Sendable {
    func handle(_ event: EngineEvent)
}

/// The two stages of Ctrl-C / SIGTERM: first, stop at the next step boundary; second, also stop
/// what is running now (its step returns to pending or becomes unknown, journaled either way).
public final class InterruptionFlag: @unchecked Sendable {
    public enum Stage: Int, Sendable, Comparable {
        case none = 0, pauseAtBoundary, stopNow
        public static func < (lhs: Stage, rhs: Stage) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private let lock = NSLock()
    private var current: Stage = .none
    private var handlers: [(Stage, @Sendable () -> Void)] = []

    public init() {}

    public var stage: Stage {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    /// One more signal: none → pauseAtBoundary → stopNow.
    public func raise() {
        lock.lock()
        current = current == .none ? .pauseAtBoundary : .stopNow
        let reached = handlers.filter { $0.0 <= current }.map(\.1)
        handlers.removeAll { $0.0 <= current }
        lock.unlock()
        reached.forEach { $0() }
    }

    private func when(_ stage: Stage, _ handler: @escaping @Sendable () -> Void) {
        lock.lock()
        let already = current >= stage
        if !already { handlers.append((stage, handler)) }
        lock.unlock()
        if already { handler() }
    }

    /// Returns once the flag reaches `stage`, or when the calling task is cancelled.
    public func wait(until stage: Stage) async {
        let gate = OneShotGate()
        when(stage) { gate.open() }
        await gate.wait()
    }
}

/// The run could not start because another run holds its lease.
public struct LeaseHeldError: Error, Sendable, CustomStringConvertible {
    public let scope: String
    public let holder: LeaseHolder

    public init(scope: String, holder: LeaseHolder) {
        self.scope = scope
        self.holder = holder
    }

    public var description: String {
        "\(scope) is locked by run \(holder.runId) (\(holder.holder) on \(holder.host), pid \(holder.pid)) until \(ISO8601DateFormatter().string(from: holder.expiresAt))"
    }
}

/// Opens once; waiters before and after the opening all proceed.
final class OneShotGate: @unchecked Sendable {
    private let lock = NSLock()
    private var isOpen = false
    private var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var nextId: UInt64 = 0

    func open() {
        lock.lock()
        isOpen = true
        let pending = waiters.values
        waiters.removeAll()
        lock.unlock()
        pending.forEach { $0.resume() }
    }

    /// Returns when the gate opens — or when the calling task is cancelled (so a task group
    /// racing it against a timeout can end without waiting for the gate).
    private func reserveId() -> UInt64 {
        lock.withLock {
            defer { nextId += 1 }
            return nextId
        }
    }

    func wait() async {
        let id = reserveId()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                lock.lock()
                if isOpen || Task.isCancelled {
                    lock.unlock()
                    continuation.resume()
                } else {
                    waiters[id] = continuation
                    lock.unlock()
                }
            }
        } onCancel: {
            lock.lock()
            let waiter = waiters.removeValue(forKey: id)
            lock.unlock()
            waiter?.resume()
        }
    }
}

/// Which progress snapshots a line-oriented output (plain lines, JSON Lines) prints: each change of
/// what runs or how much is done, and otherwise a heartbeat every `heartbeat` seconds, so that a
/// log shows a long wait is alive without a line per second. (A terminal's status line redraws
/// every snapshot instead.)
public struct ProgressLinePolicy: Sendable {
    public let heartbeat: Double
    private var lastKey: String?
    private var lastPrinted: Double?

    public init(heartbeat: Double = 60) { self.heartbeat = heartbeat }

    public mutating func shouldPrint(_ snapshot: ProgressSnapshot) -> Bool {
        let key = "\(snapshot.done)/\(snapshot.total) \(snapshot.running.joined(separator: ","))"
        let due = lastPrinted.map { snapshot.elapsed - $0 >= heartbeat } ?? true
        guard key != lastKey || (due && !snapshot.running.isEmpty) else { return false }
        lastKey = key
        lastPrinted = snapshot.elapsed
        return true
    }
}
