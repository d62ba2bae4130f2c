import Foundation

/// `exec`: a local command (`/bin/sh -c`), with a timeout and its output captured with secrets
/// redacted. `observe` (optional) is a command that exits 0 when the effect is already there —
/// it is what lets a resumed run skip a command that ran before a crash.
public struct ExecAction: RunbookAction {
    public let name = "exec"
    public let isMutating = true
    public let parameters: [ActionCatalog.Parameter] = [.init("command", .string, required: true), .init("timeout", .duration), .init("env", .map), .init("observe", .string)]
    /// Variables passed through from drctl's own environment (everything else is dropped, so
    /// credentials in drctl's environment do not leak into commands by accident).
    static let inheritedVariables = ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "TZ"]

    public init() {}

    public func describe(_ arguments: [String: RunValue]) -> String {
        "run `\(SecretRedactor(secrets: Self.secretValues(arguments)).redact(arguments["command"]?.description ?? ""))`"
    }

    public func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        guard case .string(let check)? = invocation.arguments["observe"] else { return nil }
        let result = try await LocalCommand.run(check, environment: environment(invocation), timeout: 60)
        return result.status == 0 && !result.timedOut ? ["exit_code": .int(0), "observed": .bool(true)] : nil
    }

    public func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let command = try invocation.string("command")
        let timeout = try invocation.seconds("timeout") ?? max(1, invocation.deadline.timeIntervalSince(invocation.services.clock.now()))
        let result = try await LocalCommand.run(command, environment: environment(invocation), timeout: timeout)
        let redactor = SecretRedactor(secrets: Self.secretValues(invocation.arguments))
        let tail = redactor.redact(String((result.stderr.isEmpty ? result.stdout : result.stderr).suffix(400)))
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if result.timedOut {
            throw ActionError(.timeout, "command timed out after \(DurationText.format(timeout))")
        }
        guard result.status == 0 else {
            throw ActionError(.permanent, "command exited \(result.status)\(tail.isEmpty ? "" : ": \(tail)")")
        }
        return ["exit_code": .int(0), "stdout": .string(redactor.redact(String(result.stdout.suffix(4096))))]
    }

    public func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        acted.isEmpty ? ["exit_code": .int(0), "observed": .bool(true)] : acted
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
