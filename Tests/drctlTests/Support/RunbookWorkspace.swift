import Foundation
import Testing

/// A temp directory holding a runbook, a state store and a side-effects file, and the `drctl`
/// invocations that run against them. Removed when released.
final class RunbookWorkspace: @unchecked Sendable {
    let directory: URL
    var statePath: String { directory.appendingPathComponent("state.db").path }
    var effectsPath: String { directory.appendingPathComponent("effects.txt").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Writes `text` as `name` in the workspace and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// The lines the runbook's commands appended to the side-effects file.
    func effects() -> [String] {
        guard let text = try? String(contentsOfFile: effectsPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }

    /// An `exec` step (flow-style YAML) that appends `line` to the side-effects file once, and whose
    /// `observe` reports it done when the line is already there.
    func recordingStep(_ id: String, line: String? = nil, needs: [String] = [], extra: String = "", then: String = "") -> String {
        let line = line ?? id
        let needsText = needs.isEmpty ? "" : ", needs: [\(needs.joined(separator: ", "))]"
        let command = "echo \(line) >> \(effectsPath)\(then.isEmpty ? "" : "; \(then)")"
        return "  - { id: \(id), action: exec\(needsText)\(extra), with: { command: \"\(command)\", observe: \"grep -qx \(line) \(effectsPath)\" } }\n"
    }

    /// Runs `drctl` to its end with the workspace's state store.
    func drctl(_ arguments: [String]) throws -> DrctlProcess.Result {
        try DrctlProcess.run(withState(arguments), home: directory)
    }

    /// Starts `drctl` without waiting for it.
    func start(_ arguments: [String]) throws -> DrctlChild {
        try DrctlChild(withState(arguments), home: directory)
    }

    /// `--state` for the subcommands that have a state store.
    func withState(_ arguments: [String]) -> [String] {
        let stateful: Set = ["run", "resume", "approve", "abort", "runs", "show"]
        return stateful.contains(arguments.first ?? "") ? arguments + ["--state", statePath] : arguments
    }

    /// `drctl show RUN --output json`, decoded.
    func show(_ runId: String) throws -> RunTimeline {
        let result = try drctl(["show", runId, "--output", "json"])
        #expect(result.status == 0, "show failed: \(result.stderr)")
        return try JSONDecoder().decode(RunTimeline.self, from: Data(result.stdout.utf8))
    }

    /// SQL against the state store through the `sqlite3` CLI (independent of the code under test).
    func query(_ sql: String) -> String { sqliteQuery(statePath, sql) }

    /// Number of `step.status` journal entries so far (0 while the store does not exist yet).
    func stepTransitions() -> Int {
        guard FileManager.default.fileExists(atPath: statePath) else { return 0 }
        return Int(query("SELECT count(*) FROM journal WHERE kind = 'step.status'")) ?? 0
    }

    /// The id of the only run in the store, once it is there.
    func onlyRunId() -> String? {
        guard FileManager.default.fileExists(atPath: statePath) else { return nil }
        let id = query("SELECT id FROM runs LIMIT 1")
        return id.isEmpty ? nil : id
    }
}

/// The parts of `drctl show RUN --output json` the tests read.
struct RunTimeline: Decodable {
    struct Step: Decodable {
        let id: String
        let status: String
        let attempts: Int
        let approvedBy: String?
        let error: String?
    }
    let id: String
    let status: String
    let steps: [Step]
}

/// A `drctl` process running in the background. (Foundation starts it as the leader of its own
/// process group; the commands it runs get groups of their own and outlive a kill, as they would
/// when a laptop's terminal dies.)
final class DrctlChild: @unchecked Sendable {
    let process = Process()
    private let out = Pipe(), err = Pipe()
    private let outBuffer = LockedData(), errBuffer = LockedData()

    init(_ arguments: [String], home: URL, environment: [String: String] = [:]) throws {
        process.executableURL = DrctlProcess.executable
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin", "NO_COLOR": "1", "AWS_EC2_METADATA_DISABLED": "true", "HOME": home.path]
            .merging(environment) { $1 }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        out.fileHandleForReading.readabilityHandler = { [outBuffer] in outBuffer.append($0.availableData) }
        err.fileHandleForReading.readabilityHandler = { [errBuffer] in errBuffer.append($0.availableData) }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// SIGKILL, as a crash would; returns whether the signal is what ended the process (false if it
    /// had already exited on its own).
    @discardableResult
    func crash() -> Bool {
        kill(pid, SIGKILL)
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
    }

    func signal(_ number: Int32) { kill(pid, number) }

    /// Waits for the process to end (at most `seconds`; then kills it) and returns its result.
    func finish(within seconds: Double = 60) -> DrctlProcess.Result {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            Issue.record("drctl did not finish within \(seconds)s; killed")
            crash()
        }
        process.waitUntilExit()
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        outBuffer.append(out.fileHandleForReading.readDataToEndOfFile())
        errBuffer.append(err.fileHandleForReading.readDataToEndOfFile())
        return DrctlProcess.Result(status: process.terminationStatus, stdout: outBuffer.text, stderr: errBuffer.text)
    }

    var isRunning: Bool { process.isRunning }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ more: Data) { lock.lock(); data.append(more); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}

/// Polls `condition` every 10 ms until it holds; records an issue and returns false after `seconds`.
@discardableResult
func poll(for seconds: Double = 30, _ what: String, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    Issue.record("timed out after \(seconds)s waiting until \(what)")
    return false
}

/// One value from a SQLite state store through the `sqlite3` CLI, as an operator would look
/// (independent of the code under test); "" when it cannot run.
func sqliteQuery(_ path: String, _ sql: String) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    process.arguments = ["-cmd", ".timeout 2000", path, sql]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return "" }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
