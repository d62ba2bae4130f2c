#if DEBUG
import Foundation
import Synchronization

/// Test builds only (compiled under `DEBUG`; a release build has no trace of it): a state store
/// that crashes drctl at a chosen journal append, so that tests can stop a run at every point
/// where its journal changes and check that `drctl resume` still tells the truth.
///
/// Points are journal appends numbered 1, 2, … in the order they reach this store in one process.
/// An append of several entries at once (the "running" entries of steps that start together) is
/// one transaction, all or none, so it is one point: no crash can land between its entries.
///
/// Configured from the environment (see `Plan.init(environment:)`):
/// - `DRCTL_CRASH_AT=N`: act at the N-th append;
/// - `DRCTL_CRASH_WHEN=before|after` (default `before`): before the append reaches the store, or
///   once it returned (committed, or failed);
/// - `DRCTL_CRASH_ACTION=kill|hook` (default `kill`): SIGKILL this process, as a power cut or
///   `kill -9` would; or run `DRCTL_CRASH_HOOK` (a `/bin/sh -c` command, e.g. one that cuts the
///   store's connections) and go on. The hook sees `DRCTL_CRASH_POINT=N` and `DRCTL_PID`;
/// - `DRCTL_CRASH_COUNT_FILE=PATH`: after every append, the number of appends so far is written
///   there (an uninterrupted run leaves its total: the sweep's number of points).
public final class CrashPointStore: StateStore {
    public enum Moment: String, Sendable { case before, after }

    public enum Action: Sendable, Equatable {
        case kill
        case hook(command: String)
    }

    /// What the environment asked for; nil fields mean "not asked".
    public struct Plan: Sendable, Equatable {
        public var point: Int?
        public var moment: Moment
        public var action: Action
        public var countFile: String?

        public static let variables = ["DRCTL_CRASH_AT", "DRCTL_CRASH_WHEN", "DRCTL_CRASH_ACTION", "DRCTL_CRASH_HOOK", "DRCTL_CRASH_COUNT_FILE"]

        /// Nil when none of the variables is set. A malformed value is an error that names the
        /// variable, what it holds and what it takes: a sweep that silently never crashes would
        /// pass without testing anything.
        public init?(environment: [String: String]) throws {
            guard Self.variables.contains(where: { !(environment[$0] ?? "").isEmpty }) else { return nil }
            func invalid(_ name: String, _ expected: String) -> CrashPointConfigurationError {
                CrashPointConfigurationError(message: "\(name)='\(environment[name] ?? "")': expected \(expected)")
            }
            if let text = environment["DRCTL_CRASH_AT"], !text.isEmpty {
                guard let point = Int(text), point >= 1 else { throw invalid("DRCTL_CRASH_AT", "a whole number from 1") }
                self.point = point
            } else {
                point = nil
            }
            switch environment["DRCTL_CRASH_WHEN"] ?? "" {
            case "", "before": moment = .before
            case "after": moment = .after
            default: throw invalid("DRCTL_CRASH_WHEN", "before or after")
            }
            switch environment["DRCTL_CRASH_ACTION"] ?? "" {
            case "", "kill":
                action = .kill
            case "hook":
                guard let command = environment["DRCTL_CRASH_HOOK"], !command.isEmpty else {
                    throw invalid("DRCTL_CRASH_HOOK", "a command to run at the crash point (DRCTL_CRASH_ACTION=hook)")
                }
                action = .hook(command: command)
            default:
                throw invalid("DRCTL_CRASH_ACTION", "kill or hook")
            }
            let countFile = environment["DRCTL_CRASH_COUNT_FILE"] ?? ""
            self.countFile = countFile.isEmpty ? nil : countFile
        }
    }

    private let base: any StateStore
    private let plan: Plan
    private let appends = Mutex(0)

    public init(wrapping base: any StateStore, plan: Plan) {
        self.base = base
        self.plan = plan
    }

    /// `base`, wrapped when the environment asks for crash points.
    public static func wrap(_ base: any StateStore, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any StateStore {
        guard let plan = try Plan(environment: environment) else { return base }
        return CrashPointStore(wrapping: base, plan: plan)
    }

    // MARK: Journal appends: the crash points

    @discardableResult
    public func append(_ entry: JournalEntry) async throws -> Int64 {
        try await atPoint { try await base.append(entry) }
    }

    @discardableResult
    public func append(contentsOf entries: [JournalEntry]) async throws -> [Int64] {
        guard !entries.isEmpty else { return try await base.append(contentsOf: entries) }
        return try await atPoint { try await base.append(contentsOf: entries) }
    }

    /// Numbers this append (in the order appends arrive; concurrent ones are numbered as they come)
    /// and acts before or after it when it is the chosen one.
    private func atPoint<T>(_ append: () async throws -> T) async throws -> T {
        let number = appends.withLock { count -> Int in
            count += 1
            if let countFile = plan.countFile {
                // Under the lock, so the file only ever grows.
                try? "\(count)\n".write(toFile: countFile, atomically: true, encoding: .utf8)
            }
            return count
        }
        let chosen = number == plan.point
        if chosen && plan.moment == .before { await act(number) }
        let result: Result<T, any Error>
        do { result = .success(try await append()) } catch { result = .failure(error) }
        if chosen && plan.moment == .after { await act(number) }
        return try result.get()
    }

    private func act(_ number: Int) async {
        let pid = ProcessInfo.processInfo.processIdentifier
        switch plan.action {
        case .kill:
            // One unbuffered line, so a test that finds something can tell where drctl died.
            FileHandle.standardError.write(Data("drctl: crash point \(number) (\(plan.moment.rawValue) journal append \(number)): SIGKILL\n".utf8))
            kill(pid, SIGKILL)
            // SIGKILL cannot be caught: nothing after this line runs.
        case .hook(let command):
            var environment = ProcessInfo.processInfo.environment
            environment["DRCTL_CRASH_POINT"] = String(number)
            environment["DRCTL_PID"] = String(pid)
            let result = try? await LocalCommand.run(command, environment: environment, timeout: 60)
            if result?.status != 0 {
                FileHandle.standardError.write(Data("drctl: crash point \(number): the hook failed (exit \(result.map { String($0.status) } ?? "not started"))\n".utf8))
            }
        }
    }

    // MARK: Everything else goes straight through

    public func createRun(_ run: RunRecord) async throws { try await base.createRun(run) }
    public func run(_ id: String) async throws -> RunRecord? { try await base.run(id) }
    public func runs(status: RunStatus?, limit: Int) async throws -> [RunRecord] { try await base.runs(status: status, limit: limit) }
    public func runs(lockScope: String, limit: Int) async throws -> [RunRecord] { try await base.runs(lockScope: lockScope, limit: limit) }
    public func updateRun(_ id: String, status: RunStatus, at: Date) async throws { try await base.updateRun(id, status: status, at: at) }
    public func journal(runId: String) async throws -> [JournalEntry] { try await base.journal(runId: runId) }
    public func acquireLease(scope: String, holder: LeaseHolder, ttl: Double, now: Date) async throws -> LeaseAcquisition {
        try await base.acquireLease(scope: scope, holder: holder, ttl: ttl, now: now)
    }
    public func releaseLease(scope: String, runId: String) async throws { try await base.releaseLease(scope: scope, runId: runId) }
    public func lease(scope: String) async throws -> LeaseHolder? { try await base.lease(scope: scope) }
    public func missingSchemaNote() async throws -> String? { try await base.missingSchemaNote() }
}

/// A `DRCTL_CRASH_*` variable holds something the crash hook cannot use.
public struct CrashPointConfigurationError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
#endif
