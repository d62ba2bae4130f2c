import Foundation

/// `exec`: a local command (`/bin/sh -c`), with a timeout and its output captured with secrets
/// redacted. `observe` (optional) is a command that exits 0 when the effect is already there —
/// it is what lets a resumed run skip a command that ran before a crash. Without it, a command
/// whose outcome is in doubt is not run again unless a human allows it (`canObserve`).
///
/// The command's pid, process group and start time are journaled as soon as it runs: after a crash
/// a resume waits for what is left of it (`settleInDoubt`) before it observes or acts again.
public struct ExecAction: RunbookAction {
    public let name = "exec"
    public let summary = "Runs a local command through /bin/sh with a timeout, redacting secrets from its captured output; observe is a command that tells whether it already ran."
    public let isMutating = true
    public let parameters: [ActionCatalog.Parameter] = [.init("command", .string, required: true), .init("timeout", .duration), .init("env", .map), .init("observe", .string)]
    /// Variables passed through from drctl's own environment (everything else is dropped, so
    /// credentials in drctl's environment do not leak into commands by accident).
    static let inheritedVariables = ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "TZ"]

    public init() {}

    public func describe(_ arguments: [String: RunValue]) -> String {
        "run `\(SecretRedactor(secrets: Self.secretValues(arguments)).redact(arguments["command"]?.description ?? ""))`"
    }

    public func canObserve(_ arguments: [String: RunValue]) -> Bool {
        guard case .string(let check)? = arguments["observe"] else { return false }
        return !check.trimmingCharacters(in: .whitespaces).isEmpty
    }

    public func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        guard case .string(let check)? = invocation.arguments["observe"] else { return nil }
        let result = try await LocalCommand.run(check, environment: environment(invocation), timeout: 60)
        if result.stopped == .cancelled { throw CancellationError() }
        return result.status == 0 && result.stopped == nil ? ["exit_code": .int(0), "observed": .bool(true)] : nil
    }

    public func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let command = try invocation.string("command")
        let timeout = try invocation.seconds("timeout") ?? max(1, invocation.deadline.timeIntervalSince(invocation.services.clock.now()))
        let result: LocalCommand.Result
        do {
            result = try await LocalCommand.run(command, environment: environment(invocation), timeout: timeout) { process in
                // Journaled before the command runs anything: a crash from here on leaves its trace.
                try await invocation.recordIntentDetail(["process": .map(process.journalDetail)])
            }
        } catch let error as ChildProcess.SpawnError {
            throw ActionError(.permanent, error.description, stoppedCleanly: true)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // Never run a command the journal does not know of.
            throw ActionError(.transient, "could not journal the command's process before starting it (\(error)); it did not run",
                              stoppedCleanly: true)
        }
        let redactor = SecretRedactor(secrets: Self.secretValues(invocation.arguments))
        let tail = redactor.redact(String((result.stderr.isEmpty ? result.stdout : result.stderr).suffix(400)))
            .trimmingCharacters(in: .whitespacesAndNewlines)
        switch result.stopped {
        case .timedOut?:
            throw ActionError(.timeout, "command timed out after \(DurationText.format(timeout)); stopped it", stoppedCleanly: true)
        case .cancelled?:
            throw ActionError(.timeout, "command stopped before it finished", stoppedCleanly: true)
        case nil:
            break
        }
        guard result.status == 0 else {
            throw ActionError(.permanent, "command exited \(result.status)\(tail.isEmpty ? "" : ": \(tail)")")
        }
        return ["exit_code": .int(0), "stdout": .string(redactor.redact(String(result.stdout.suffix(4096))))]
    }

    public func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        acted.isEmpty ? ["exit_code": .int(0), "observed": .bool(true)] : acted
    }

    /// After a crash, the command of the interrupted attempt may still run (the kernel kills the
    /// shell with drctl, not what the shell started): wait for its process group to end, up to the
    /// step's deadline, then stop it — so that observing, or running the command again, cannot
    /// overlap with it.
    public func settleInDoubt(_ invocation: ActionInvocation) async throws -> String? {
        guard case .map(let detail)? = invocation.inDoubtDetail["process"], let process = SpawnedProcess(journalDetail: detail) else {
            return nil
        }
        let clock = invocation.services.clock
        switch process.presence() {
        case .gone:
            return "the command of the interrupted attempt (process group \(process.pid)) no longer runs"
        case .elsewhere:
            return "the command of the interrupted attempt ran on another machine or before a reboot; drctl cannot tell whether it still runs"
        case .running:
            break
        }
        let started = clock.now()
        invocation.services.messages("step \(invocation.stepId): the command of the interrupted attempt still runs (process group \(process.pid)); waiting for it to end")
        let gone = Waiter<SpawnedProcess.Presence>(what: "process group \(process.pid) to end", minimumDelay: 0.05, maximumDelay: 1,
                                                    clock: clock) { presence in
            if case .running = presence { return .retry }
            return .success
        }
        do {
            _ = try await gone.wait(until: invocation.deadline) { process.presence() }
            return "waited \(DurationText.format(clock.now().timeIntervalSince(started))) for the command of the interrupted attempt (process group \(process.pid)) to end"
        } catch is Waiter<SpawnedProcess.Presence>.TimedOut {
            process.signalSurvivors(SIGTERM)
            let grace = clock.now().addingTimeInterval(2)
            if (try? await gone.wait(until: grace) { process.presence() }) == nil {
                process.signalSurvivors(SIGKILL)
                _ = try? await gone.wait(until: clock.now().addingTimeInterval(2)) { process.presence() }
            }
            return "the command of the interrupted attempt (process group \(process.pid)) still ran at the step's deadline; stopped it"
        }
    }

    private func environment(_ invocation: ActionInvocation) -> [String: String] {
        let inherited = ProcessInfo.processInfo.environment.filter { Self.inheritedVariables.contains($0.key) }
        var env = inherited
        if case .map(let extra)? = invocation.arguments["env"] {
            for (key, value) in extra { env[key] = value.description }
        }
        env["DRCTL_RUN_ID"] = invocation.runId
        env["DRCTL_STEP_ID"] = invocation.stepId
        env["DRCTL_ATTEMPT"] = String(invocation.attempt)
        return env
    }

    /// Values of `env` entries with secret-looking names are masked in outputs and errors.
    static func secretValues(_ arguments: [String: RunValue]) -> [String] {
        guard case .map(let env)? = arguments["env"] else { return [] }
        return env.filter { SecretRedactor.isSecretName($0.key) }.map { $0.value.description }
    }
}
