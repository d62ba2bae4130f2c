import AWSProvider
import ArgumentParser
import DRCore
import Foundation

/// Ends the process with a run's status (already reported on stdout, so no error message).
struct RunEnded: Error {
    let status: ExitStatus
    let message: String?
}

/// Wires one engine execution to the terminal: store, actions, prompter, renderer, signals.
struct EngineSession {
    let store: any StateStore
    let global: GlobalOptions
    let execution: ExecutionOptions
    var registry: ActionRegistry = EngineSession.defaultRegistry()
    /// `resume --rerun-unknown STEP`.
    var rerunUnknown: Set<String> = []

    var color: Bool {
        !global.noColor && ProcessInfo.processInfo.environment["NO_COLOR"] == nil && isatty(STDOUT_FILENO) == 1
    }

    /// The built-in actions plus every provider's (AWS with the default credential chain and
    /// configuration; if those are broken, AWS actions still validate and fail clearly when used).
    static func defaultRegistry() -> ActionRegistry {
        registry(for: ProviderRegistration.providers(.declarationsOnly))
    }

    static func registry(for aws: AWSContext?) -> ActionRegistry {
        registry(for: ProviderRegistration.providers(aws.map(ProviderContext.init(aws:)) ?? .declarationsOnly))
    }

    static func registry(for providers: [any DRProvider]) -> ActionRegistry {
        var registry = ActionRegistry.builtIns
        for provider in providers {
            for action in provider.actions() { registry.register(action) }
        }
        return registry
    }

    /// Takes the run's lease, then records the run. In that order: a check followed by a later
    /// acquire would let two simultaneous starts both create runs, and the loser's would stay
    /// "running" forever. The executor's own acquire is then a renewal by the same run.
    func begin(_ record: RunRecord) async throws {
        let configuration = execution.engineConfiguration()
        let now = Date()
        let holder = LeaseHolder(runId: record.id, holder: configuration.operatorName, host: configuration.host,
                                 pid: ProcessInfo.processInfo.processIdentifier, acquiredAt: now,
                                 expiresAt: now.addingTimeInterval(configuration.leaseTTL))
        try await store.claimLease(scope: record.lockScope, holder: holder, ttl: configuration.leaseTTL, now: now)
        do {
            try await store.createRun(record)
        } catch {
            try? await store.releaseLease(scope: record.lockScope, runId: record.id)
            throw error
        }
    }

    /// Executes (or resumes) `record` until it stops, then ends the process with its status.
    func execute(runbook: Runbook, record: RunRecord, tolerate: Set<String> = []) async throws -> Never {
        let status = try await run(runbook: runbook, record: record, tolerate: tolerate)
        try await finish(status, record: record)
    }

    /// Executes (or resumes) `record` until it stops and returns how it stopped. `tolerate`: failed
    /// steps whose failure the operator accepts on resume (`--tolerate STEP`).
    func run(runbook: Runbook, record: RunRecord, tolerate: Set<String> = []) async throws -> RunStatus {
        let interruption = InterruptionFlag()
        let observer = RunRenderer.make(format: global.output, color: color)
        let trap = SignalTrap(interruption) { stage in
            let text = stage == .stopNow ? "stopping now; the journal keeps what was running" : "pausing at the next step boundary (press Ctrl-C again to stop now)"
            FileHandle.standardError.write(Data("\ndrctl: \(text)\n".utf8))
        }
        var configuration = execution.engineConfiguration()
        configuration.rerunUnknown = rerunUnknown
        let prompter = TerminalPrompter(operatorName: configuration.operatorName, interruption: interruption, color: color)
        // Messages from steps (notify) go through the renderer, so `--output json` stays one object per line.
        let services = ActionServices(transport: CurlTransport(), messages: { line in observer.handle(.message(line)) })
        let journal = try await store.journal(runId: record.id)
        let executor = RunExecutor(runbook: runbook, run: record, journal: journal, environment: EngineEnvironment(
            store: store, registry: registry, configuration: configuration, prompter: prompter, observer: observer, services: services,
            interruption: interruption))
        do { try await executor.tolerateFailures(tolerate) } catch { throw RunEnded(status: .usage, message: "--tolerate: \(error)") }
        let status = try await executor.execute(lockScope: record.lockScope)
        withExtendedLifetime(trap) {}
        return status
    }

    /// Ends the process with the run's status, saying what to do next when it did not finish.
    func finish(_ status: RunStatus, record: RunRecord) async throws -> Never {
        switch status {
        case .paused:
            let waiting = try await waitingSteps(record.id)
            throw RunEnded(status: .pausedForApproval,
                           message: "run \(record.id) is paused for approval: " + waiting.map { "`drctl approve \(record.id) \($0)`" }.joined(separator: ", ") + " (from any terminal)")
        case .interrupted:
            throw RunEnded(status: .interrupted, message: "run \(record.id) interrupted: `drctl resume \(record.id)` continues it")
        case .unknown:
            let unobservable = try await stepsNeedingRerunPermission(record.id)
            var message = "run \(record.id): an outcome is unknown; `drctl resume \(record.id)` re-observes before acting"
            if !unobservable.isEmpty {
                message += "; drctl cannot observe " + unobservable.joined(separator: ", ") + ": to run "
                    + (unobservable.count == 1 ? "it" : "them") + " again, `drctl resume \(record.id) "
                    + unobservable.map { "--rerun-unknown \($0)" }.joined(separator: " ") + "`"
            }
            throw RunEnded(status: .outcomeUnknown, message: message)
        case .degraded:
            let replay = JournalReplay(entries: try await store.journal(runId: record.id))
            let order = replay.steps.sorted { ($0.value.endedAt ?? .distantFuture, $0.key) < ($1.value.endedAt ?? .distantFuture, $1.key) }.map(\.key)
            throw RunEnded(status: .degraded, message: "run \(record.id) finished DEGRADED — not every step that should have run did:\n"
                           + replay.degradations(order: order).map { "  - \($0)" }.joined(separator: "\n")
                           + "\n`drctl resume \(record.id)` retries what failed")
        default:
            throw RunEnded(status: ExitStatus(status), message: nil)
        }
    }

    /// Unknown steps the engine would not act on again without `--rerun-unknown` (it journaled
    /// a `rerun-needed` note for them).
    func stepsNeedingRerunPermission(_ runId: String) async throws -> [String] {
        let journal = try await store.journal(runId: runId)
        let unknown = JournalReplay(entries: journal).steps.filter { $0.value.state == .unknown }.map(\.key)
        let flagged = Set(journal.filter { $0.kind == .note && $0.detail["event"]?.stringValue == "rerun-needed" }.compactMap(\.stepId))
        return unknown.filter(flagged.contains).sorted()
    }

    func waitingSteps(_ runId: String) async throws -> [String] {
        let replay = JournalReplay(entries: try await store.journal(runId: runId))
        return replay.steps.filter { $0.value.state == .waiting }.map(\.key).sorted()
    }

    /// Loads the runbook a run was started with: the file if it is still the same, else (with
    /// `allowChanged`) the changed file, else the text pinned in the run.
    static func runbook(for record: RunRecord, allowChanged: Bool, registry: ActionRegistry = defaultRegistry()) throws -> Runbook {
        let pinned = { () throws -> Runbook in
            do { return try RunbookLoader.parse(text: record.runbookText, path: record.runbookPath, catalog: registry.catalog, limits: .stored) }
            catch { throw RunEnded(status: .invalidRunbook, message: "the runbook pinned in run \(record.id) no longer validates:\n\(error)") }
        }
        guard FileManager.default.fileExists(atPath: record.runbookPath) else { return try pinned() }
        let current: Runbook
        do { current = try RunbookLoader.load(path: record.runbookPath, catalog: registry.catalog) }
        catch { return try pinned() }
        if current.source.digest == record.runbookDigest { return current }
        guard allowChanged else {
            throw RunEnded(status: .invalidRunbook, message: """
                \(record.runbookPath) changed since run \(record.id) started (digest \(record.runbookDigest.prefix(12)) → \(current.source.digest.prefix(12))); \
                resume with --allow-changed to use the new file
                """)
        }
        return current
    }
}

enum RunIdentifier {
    /// "run-20261126-154431-3f9a2c": sortable, readable, unique enough across hosts.
    static func make(now: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let random = (try? SecureRandom.bytes(3)).map { Hex.encode($0) } ?? String(UInt32.random(in: 0...0xFFFFFF), radix: 16)
        return "run-\(formatter.string(from: now))-\(random)"
    }
}

/// Stands in for the credential chain when the AWS configuration could not be read: AWS actions
/// still validate, and fail with the configuration error if a run reaches them.
struct UnavailableCredentials: CredentialProvider {
    func resolve() async throws -> ResolvedCredentials {
        _ = try AWSContext(profile: nil, region: nil)   // rethrows the configuration error itself
        throw ConfigurationError(kind: .invalidValue, message: "AWS credentials are unavailable")
    }
}
