import DRCore
import Foundation

// drctl-engine-bench: the engine's own overhead with the durable SQLite journal.
//   swift run -c release drctl-engine-bench [--steps 1000] [--transitions 10000]
// 1. a runbook of N no-op steps (a chain, so nothing overlaps): total time and per-step overhead,
//    once with read-only steps and once with mutating ones (an intent fsynced per step);
// 2. resume of a run whose journal holds M transitions: load, replay, decide, finish;
// 3. the per-step cost curve, 100 → 5,000 steps (the loader's limit), serial (a chain) and fully
//    parallel (no needs, concurrency 4): the engine's own cost per step must stay flat;
// 4. peak memory (VmHWM) of the process.
//   swift run -c release drctl-engine-bench --render 10000
// only: render + load back of a generated-failover-shaped runbook of N steps (see RenderBench.swift).

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Int(arguments[index + 1]) else { return fallback }
    return value
}
let stepCount = option("--steps", 1000)
let transitionCount = option("--transitions", 10_000)
if arguments.contains("--render") {
    try renderBench(steps: option("--render", 10_000))
    exit(0)
}

/// A step that does nothing, optionally declaring that it changes the world (so the engine
/// journals and syncs an intent and an outcome for it).
struct NoOp: RunbookAction {
    let name: String
    let isMutating: Bool
    let parameters: [ActionCatalog.Parameter] = []
    func describe(_ arguments: [String: RunValue]) -> String { "nothing" }
    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] { [:] }
}

struct Quiet: RunObserver { func handle(_ event: EngineEvent) {} }

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func peakMemoryMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kib = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kib / 1024
}

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-engine-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
let store = try SQLiteStateStore(path: directory.appendingPathComponent("state.db").path)
let registry: ActionRegistry = {
    var registry = ActionRegistry.builtIns
    registry.register(NoOp(name: "bench.read", isMutating: false))
    registry.register(NoOp(name: "bench.change", isMutating: true))
    return registry
}()

func chainRunbook(_ name: String, action: String, steps: Int, parallel: Bool = false) throws -> Runbook {
    var yaml = "name: \(name)\nsteps:\n"
    for index in 0..<steps {
        yaml += "  - { id: s\(index), action: \(action)\(index > 0 && !parallel ? ", needs: [s\(index - 1)]" : "") }\n"
    }
    return try RunbookLoader.parse(text: yaml, path: "\(name).yaml", catalog: registry.catalog)
}

func record(_ id: String, _ runbook: Runbook) -> RunRecord {
    RunRecord(id: id, runbookName: runbook.name, runbookPath: "\(runbook.name).yaml", runbookDigest: runbook.source.digest,
              runbookText: "", inputs: [:], status: .running, createdAt: Date(), updatedAt: Date(), startedBy: "bench",
              host: "bench", mode: "run", lockScope: "bench-\(id)")
}

func execute(_ id: String, _ runbook: Runbook) async throws -> RunStatus {
    let executor = RunExecutor(runbook: runbook, run: try await store.run(id)!, journal: try await store.journal(runId: id),
                               environment: EngineEnvironment(store: store, registry: registry,
                                                              configuration: EngineConfiguration(concurrency: 4, operatorName: "bench"),
                                                              prompter: NoPrompter(), observer: Quiet(), services: ActionServices(messages: { _ in }),
                                                              interruption: InterruptionFlag()))
    return try await executor.execute(lockScope: "bench-\(id)")
}

print("drctl-engine-bench: \(stepCount)-step runbooks and a \(transitionCount)-transition resume, SQLite journal (WAL) in \(directory.path)\n")
for (label, action) in [("read-only no-op steps", "bench.read"), ("mutating no-op steps (intent + outcome each)", "bench.change")] {
    let runbook = try chainRunbook("chain-\(action.split(separator: ".").last!)", action: action, steps: stepCount)
    let id = "run-\(action)"
    try await store.createRun(record(id, runbook))
    let start = ContinuousClock.now
    let status = try await execute(id, runbook)
    let took = seconds(ContinuousClock.now - start)
    let entries = try await store.journal(runId: id).count
    print("\(stepCount) \(label): \(String(format: "%.2f", took)) s (\(status.rawValue)), \(String(format: "%.2f", took / Double(stepCount) * 1000)) ms per step, \(entries) journal entries   goal: < 2 s in all")
}

// A run interrupted after `transitionCount` transitions: every step done but the run not closed.
let stepsForResume = max(1, transitionCount / 2)
let resumeRunbook = try chainRunbook("resume", action: "bench.read", steps: stepsForResume)
let resumeId = "run-resume"
try await store.createRun(record(resumeId, resumeRunbook))
try await store.append(JournalEntry(runId: resumeId, at: Date(), kind: .runStatus, detail: ["to": .string("running")]))
for index in 0..<stepsForResume {
    try await store.append(JournalEntry(runId: resumeId, at: Date(), kind: .stepStatus, stepId: "s\(index)", attempt: 1,
                                        detail: ["from": .string("pending"), "to": .string("running")]))
    try await store.append(JournalEntry(runId: resumeId, at: Date(), kind: .stepStatus, stepId: "s\(index)", attempt: 1,
                                        detail: ["from": .string("running"), "to": .string("succeeded")]))
}
let resumeStart = ContinuousClock.now
let resumed = try await execute(resumeId, resumeRunbook)
let resumeTook = seconds(ContinuousClock.now - resumeStart)
print("resume of a run with \(stepsForResume * 2 + 1) journaled transitions: \(String(format: "%.3f", resumeTook)) s (\(resumed.rawValue))   goal: < 0.3 s")
print("\nper-step cost curve (read-only no-op steps; flat = the engine's work per step does not grow with the runbook):")
for shape in ["serial", "parallel"] {
    var line = "  \(shape):"
    for count in [100, 500, 1000, 2000, 5000] {
        let runbook = try chainRunbook("curve-\(shape)-\(count)", action: "bench.read", steps: count, parallel: shape == "parallel")
        let id = "run-curve-\(shape)-\(count)"
        try await store.createRun(record(id, runbook))
        let start = ContinuousClock.now
        let status = try await execute(id, runbook)
        let took = seconds(ContinuousClock.now - start)
        line += "  \(count): \(String(format: "%.2f", took)) s (\(String(format: "%.3f", took / Double(count) * 1000)) ms/step\(status == .succeeded ? "" : ", " + status.rawValue))"
    }
    print(line)
}
print("  goal: 5,000 steps well under 2 s, ms/step flat from 100 to 5,000")
print("peak memory (VmHWM): \(String(format: "%.1f", peakMemoryMiB())) MiB")
