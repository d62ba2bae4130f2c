import Foundation

/// Where runs and their journals live. One protocol, two implementations with one schema:
/// SQLite (embedded default) and PostgreSQL (for teams; a later issue). Every method that
/// records something returns only after it is durable: the engine journals an intent, then acts.
public protocol StateStore: Sendable {
    func createRun(_ run: RunRecord) async throws
    func run(_ id: String) async throws -> RunRecord?
    /// Newest first; `status` nil means all.
    func runs(status: RunStatus?, limit: Int) async throws -> [RunRecord]
    /// The runs that took the lease `lockScope` (a plan's failovers and switchovers), newest first.
    func runs(lockScope: String, limit: Int) async throws -> [RunRecord]
    func updateRun(_ id: String, status: RunStatus, at: Date) async throws

    /// Appends one entry and returns its sequence number (1, 2, … per run).
    @discardableResult
    func append(_ entry: JournalEntry) async throws -> Int64
    /// Appends entries in order, in one transaction (all or none), and returns their sequence
    /// numbers: the "running" entries of steps that start together.
    @discardableResult
    func append(contentsOf entries: [JournalEntry]) async throws -> [Int64]
    /// The run's journal in order.
    func journal(runId: String) async throws -> [JournalEntry]

    /// Takes the single-flight lease for `scope` (e.g. the runbook or plan name) for `ttl`
    /// seconds, unless another unexpired holder has it. Re-acquiring one's own lease (same run, host and pid)
    /// renews it; the same run resumed by another process waits for the lease to expire.
    func acquireLease(scope: String, holder: LeaseHolder, ttl: Double, now: Date) async throws -> LeaseAcquisition
    func releaseLease(scope: String, runId: String) async throws
    func lease(scope: String) async throws -> LeaseHolder?

    /// For a store opened only to read: a note saying it has no drctl schema yet (a file or a
    /// database nothing has run with), so that reading nothing is not mistaken for an error.
    /// Nil when the store has its tables.
    func missingSchemaNote() async throws -> String?
}

extension StateStore {
    public func missingSchemaNote() async throws -> String? { nil }
}

extension StateStore {
    /// For stores that wrap another or predate the query: every run, filtered here. The SQLite and
    /// PostgreSQL stores ask their database instead.
    public func runs(lockScope: String, limit: Int) async throws -> [RunRecord] {
        Array(try await runs(status: nil, limit: .max).filter { $0.lockScope == lockScope }.prefix(max(limit, 0)))
    }
}

public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case running
    /// Waiting for `drctl approve RUN STEP`.
    case paused
    case succeeded
    /// Went to its end, but not every step that should have run did: a failure tolerated by
    /// `on_failure: continue` (or accepted by an operator), a step skipped because something it
    /// needed failed, or a step that reported a degradation (a fence it could not confirm).
    /// `drctl resume` retries what failed.
    case degraded
    case failed
    /// Stopped by `drctl abort` (after its compensations).
    case aborted
    /// A mutating step's outcome could not be confirmed; `drctl resume` re-observes it.
    case unknown
    /// Stopped at a step boundary by Ctrl-C/SIGTERM or a crash; `drctl resume` continues.
    case interrupted

    public var isFinal: Bool { self == .succeeded || self == .degraded || self == .failed || self == .aborted }
}

public struct RunRecord: Sendable, Codable, Equatable {
    public var id: String
    public var runbookName: String
    public var runbookPath: String
    /// SHA-256 of the runbook's bytes when the run started; `resume` refuses a changed runbook.
    public var runbookDigest: String
    /// The runbook's text, so that a run can be resumed from a machine that lacks the file.
    public var runbookText: String
    public var inputs: [String: RunValue]
    public var status: RunStatus
    public var createdAt: Date
    public var updatedAt: Date
    /// Who started it: `--operator` or the OS user, and on which host.
    public var startedBy: String
    public var host: String
    /// "run", "failover", "drill" …
    public var mode: String
    /// The lease scope this run holds while it executes.
    public var lockScope: String

    public init(id: String, runbookName: String, runbookPath: String, runbookDigest: String, runbookText: String,
                inputs: [String: RunValue], status: RunStatus, createdAt: Date, updatedAt: Date, startedBy: String,
                host: String, mode: String, lockScope: String) {
        self.id = id
        self.runbookName = runbookName
        self.runbookPath = runbookPath
        self.runbookDigest = runbookDigest
        self.runbookText = runbookText
        self.inputs = inputs
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startedBy = startedBy
        self.host = host
        self.mode = mode
        self.lockScope = lockScope
    }
}

/// One journal entry. Kinds and their `detail` keys are documented on `JournalKind`.
public struct JournalEntry: Sendable, Codable, Equatable {
    public var runId: String
    /// Assigned by the store on append (0 before).
    public var sequence: Int64
    public var at: Date
    public var kind: JournalKind
    public var stepId: String?
    public var attempt: Int?
    /// Structured detail (never a secret): status names, error text, outputs, who approved …
    public var detail: [String: RunValue]

    public init(runId: String, sequence: Int64 = 0, at: Date, kind: JournalKind, stepId: String? = nil,
                attempt: Int? = nil, detail: [String: RunValue] = [:]) {
        self.runId = runId
        self.sequence = sequence
        self.at = at
        self.kind = kind
        self.stepId = stepId
        self.attempt = attempt
        self.detail = detail
    }
}

public enum JournalKind: String, Sendable, Codable, CaseIterable {
    /// Entries that must be on disk before `append` returns: what comes before a side effect
    /// (intents, compensations), human decisions (approvals) and run status changes. The rest
    /// may ride on the next durable commit (see `SQLiteStateStore`).
    public var mustBeDurable: Bool {
        switch self {
        case .intent, .approval, .compensation, .runStatus, .note: return true
        case .stepStatus, .outcome, .outputs: return false
        }
    }

    /// detail: from, to (run statuses), reason
    case runStatus = "run.status"
    /// detail: from, to (step statuses), error
    case stepStatus = "step.status"
    /// Before an action acts. detail: action, summary (what it is about to change)
    case intent = "step.intent"
    /// After it acted. detail: result ("succeeded" | "failed" | "unknown"), error
    case outcome = "step.outcome"
    /// detail: the step's outputs
    case outputs = "step.outputs"
    /// detail: shown (what the operator saw), by, decision ("approved" | "denied"), via ("terminal" | "--yes" | "approve")
    case approval = "step.approval"
    /// Compensation of a step. detail: phase ("intent" | "outcome"), result, error
    case compensation = "step.compensation"
    /// Anything else worth keeping (data-loss acceptance, signals). detail: free keys
    case note = "run.note"
}

public struct LeaseHolder: Sendable, Codable, Equatable {
    public var runId: String
    public var holder: String
    public var host: String
    public var pid: Int32
    public var acquiredAt: Date
    public var expiresAt: Date

    public init(runId: String, holder: String, host: String, pid: Int32, acquiredAt: Date, expiresAt: Date) {
        self.runId = runId
        self.holder = holder
        self.host = host
        self.pid = pid
        self.acquiredAt = acquiredAt
        self.expiresAt = expiresAt
    }
}

public enum LeaseAcquisition: Sendable, Equatable {
    case acquired
    case heldBy(LeaseHolder)
}

/// A store failure. The description names the store and what failed, never a connection password.
public struct StateStoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case open, schema, query, notFound, conflict, corrupt
        /// A store outage: the store kept failing transiently (connection lost, server restarting,
        /// lock held, I/O error) until the retry deadline passed. What the call meant to write
        /// may or may not have landed: a journal write that ends so leaves its step in doubt.
        case unavailable
        /// The store refuses writes: a read-only or replaced SQLite file, a PostgreSQL hot standby
        /// or `default_transaction_read_only`, or a store opened only to read.
        case readOnly
    }
    public let kind: Kind
    public let message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { "state store: \(message)" }

    /// The store could not be reached or written for a while: the caller's write may have landed.
    public var isOutage: Bool { kind == .unavailable }
}
