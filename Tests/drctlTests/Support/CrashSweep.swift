import Foundation
import Testing

/// Where a sweep stops drctl: right before or right after its `append`-th journal append
/// (`DRCTL_CRASH_AT` / `DRCTL_CRASH_WHEN`, honoured by test builds: `CrashPointStore`). An append
/// of several entries at once is one transaction, hence one point.
struct CrashPoint: Hashable, Sendable, CustomStringConvertible {
    let append: Int
    let moment: String

    var description: String { "\(moment) append \(append)" }

    var environment: [String: String] { ["DRCTL_CRASH_AT": String(append), "DRCTL_CRASH_WHEN": moment] }

    /// Every point of a run with `total` appends: before and after each one.
    static func all(total: Int) -> [CrashPoint] {
        (1...max(total, 1)).flatMap { [CrashPoint(append: $0, moment: "before"), CrashPoint(append: $0, moment: "after")] }
    }

    /// A deterministic subset for CI: every `stride`-th point, always the first and the last two.
    static func sample(total: Int, stride: Int) -> [CrashPoint] {
        let every = all(total: total)
        return every.enumerated().filter { index, _ in index % stride == 0 || index < 1 || index >= every.count - 2 }.map(\.element)
    }
}

/// How a run ended, as the sweeps compare runs: the exit code of the last drctl command, the
/// run's status and each step's status (`drctl show --output json`), and how often each side
/// effect happened.
struct RunEnding: Equatable, CustomStringConvertible {
    var exitStatus: Int32
    var runStatus: String
    var steps: [String: String]
    var effects: [String: Int]

    var description: String {
        let steps = self.steps.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let effects = self.effects.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
        return "exit \(exitStatus), run \(runStatus); steps: \(steps); effects: \(effects)"
    }
}

/// One `drctl` process to its end, telling a kill by a signal from an exit code (exit 9 is a
/// cloud error, signal 9 a crash point).
struct SweepProcessResult {
    let status: Int32
    let killedBySignal: Bool
    let stdout: String
    let stderr: String
}

enum SweepProcess {
    static func run(_ arguments: [String], environment: [String: String], home: URL, executable: URL = DrctlProcess.executable) throws -> SweepProcessResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin", "NO_COLOR": "1", "AWS_EC2_METADATA_DISABLED": "true", "HOME": home.path]
            .merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Both pipes are read on their own threads so that neither can fill up and stall drctl.
        let outData = LockedData(), errData = LockedData()
        let group = DispatchGroup()
        for (pipe, buffer) in [(out, outData), (err, errData)] {
            group.enter()
            Thread.detachNewThread {
                buffer.append(pipe.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
        }
        process.waitUntilExit()
        group.wait()
        return SweepProcessResult(status: process.terminationStatus, killedBySignal: process.terminationReason == .uncaughtSignal,
                                  stdout: outData.text, stderr: errData.text)
    }

    /// Runs `body` for each element on up to `width` threads at once; results in input order.
    static func parallelMap<T, R>(_ items: [T], width: Int, _ body: @escaping @Sendable (T) -> R) -> [R] {
        let results = LockedResults<R>(count: items.count)
        let slots = DispatchSemaphore(value: max(1, width))
        let group = DispatchGroup()
        for (index, item) in items.enumerated() {
            slots.wait()
            group.enter()
            nonisolated(unsafe) let item = item
            Thread.detachNewThread {
                results.set(index, body(item))
                slots.signal()
                group.leave()
            }
        }
        group.wait()
        return results.values
    }
}

final class LockedResults<R>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [R?]
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: R) { lock.lock(); storage[index] = value; lock.unlock() }
    var values: [R] { lock.lock(); defer { lock.unlock() }; return storage.map { $0! } }
}

/// Runs a command that makes a run under a crash point, then `drctl resume RUN --yes` until the
/// run stops, and reads how it ended. One instance per run (its own store and effects file).
struct CrashSweepRun {
    /// `--state` value: a SQLite path or a postgres:// URL private to this run.
    let state: String
    let home: URL
    let environment: [String: String]
    /// Where the runbook's commands append their side effects (nil: the caller counts effects).
    let effectsPath: String?

    /// What happened at one point.
    struct Result {
        let first: SweepProcessResult
        let resumes: [SweepProcessResult]
        let runId: String?
        let ending: RunEnding?
        /// `drctl show RUN --journal` at the end, for the report of a point that went wrong.
        let journal: String
    }

    func drctl(_ arguments: [String], extra: [String: String] = [:]) throws -> SweepProcessResult {
        try SweepProcess.run(arguments + ["--state", state], environment: environment.merging(extra) { $1 }, home: home)
    }

    /// The run's id: from the first line drctl prints (`run ID`), else the newest run of the
    /// store (each sweep run has its own store, so: the run).
    func runId(printedIn output: String) throws -> String? {
        if let line = output.split(separator: "\n").first(where: { $0.hasPrefix("run run-") }) {
            // `run ID` (run) or `run ID (failover of … to …)` (moves).
            return line.split(separator: " ").dropFirst().first.map(String.init)
        }
        let listed = try drctl(["runs", "--output", "json"])
        let rows = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [[String: Any]] ?? []
        return rows.first?["id"] as? String
    }

    /// `arguments` (without `--state`) under `extra` (the crash point, or nothing), then resumes
    /// while drctl says the run can go on (interrupted, or the dead holder's lock not yet seen).
    /// The journal is read only when the run did not end as `expected`.
    func execute(_ arguments: [String], extra: [String: String], expected: RunEnding? = nil) throws -> Result {
        let first = try drctl(arguments, extra: extra)
        var resumes: [SweepProcessResult] = []
        var last = first
        let id = try runId(printedIn: first.stdout)
        if let id, first.killedBySignal || first.status == 130 {
            repeat {
                last = try drctl(["resume", id, "--yes"])
                resumes.append(last)
                if last.status == 7 { usleep(300_000) }
            } while (last.status == 130 || last.status == 7 || last.killedBySignal) && resumes.count < 5
        }
        guard let id else { return Result(first: first, resumes: resumes, runId: nil, ending: nil, journal: "") }
        let ending = try ending(of: id, exitStatus: last.killedBySignal ? -last.status : last.status)
        let journal = ending == expected && expected != nil ? "" : try drctl(["show", id, "--journal"]).stdout
        return Result(first: first, resumes: resumes, runId: id, ending: ending, journal: journal)
    }

    func ending(of runId: String, exitStatus: Int32) throws -> RunEnding? {
        let shown = try drctl(["show", runId, "--output", "json"])
        guard let timeline = try? JSONDecoder().decode(RunTimeline.self, from: Data(shown.stdout.utf8)) else { return nil }
        return RunEnding(exitStatus: exitStatus, runStatus: timeline.status,
                         steps: Dictionary(timeline.steps.map { ($0.id, $0.status) }, uniquingKeysWith: { first, _ in first }),
                         effects: effects())
    }

    func effects() -> [String: Int] {
        guard let effectsPath, let text = try? String(contentsOfFile: effectsPath, encoding: .utf8) else { return [:] }
        return text.split(separator: "\n").reduce(into: [:]) { counts, line in counts[String(line), default: 0] += 1 }
    }
}

/// What a point's run tells about the engine, in one line for an issue.
func describe(_ point: CrashPoint, _ result: CrashSweepRun.Result) -> String {
    let resumes = result.resumes.enumerated().map { index, resume in
        "resume \(index + 1): exit \(resume.status)\(resume.killedBySignal ? " (signal)" : "")\n\(resume.stdout.suffix(1500))\(resume.stderr.suffix(800))"
    }.joined(separator: "\n")
    let first = result.first.killedBySignal ? "signal \(result.first.status)" : "exit \(result.first.status): \(result.first.stderr.suffix(600))"
    return """
        stopped \(point) (first process: \(first))
        ended: \(result.ending.map(String.init(describing:)) ?? "unreadable")
        \(resumes)
        journal:
        \(result.journal.suffix(6000))
        """
}

/// The sweeps' size: `DRCTL_CRASH_SWEEP=full` (scripts/bench-crash-sweep.sh) sweeps larger
/// runbooks and every failover point; CI sweeps the small runbook fully and samples the failover.
enum CrashSweepScale {
    static var full: Bool { ProcessInfo.processInfo.environment["DRCTL_CRASH_SWEEP"] == "full" }
    /// Points swept at once (separate stores and files; drctl is mostly waiting for fsync and children).
    static var width: Int { Int(ProcessInfo.processInfo.environment["DRCTL_CRASH_SWEEP_WIDTH"] ?? "") ?? 3 }
}
