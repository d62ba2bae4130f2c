import DRCore
import Foundation

// drctl-store-bench: what the SQLite state store costs the engine, with full durability
// (WAL, synchronous=FULL: every append is fsynced before it returns).
//   swift run -c release drctl-store-bench [--dir DIR] [--steps N] [--load-entries N]
// DIR defaults to ./.bench (use a real disk: on tmpfs fsync is free and the figures flatter).

let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let steps = option("--steps").flatMap(Int.init) ?? 1_000
let loadEntries = option("--load-entries").flatMap(Int.init) ?? 10_000
let baseDirectory = option("--dir") ?? FileManager.default.currentDirectoryPath + "/.bench"
let directory = baseDirectory + "/store-bench-\(getpid())"

/// Peak resident set size in MiB (`VmHWM` of /proc/self/status), nil where there is no procfs.
func peakMemoryMiB() -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kib = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
    return kib / 1024
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func format(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }

/// The five entries the engine journals for one mutating step that succeeds.
func stepEntries(runId: String, step: Int) -> [JournalEntry] {
    let stepId = "step-\(step)"
    let now = Date()
    return [
        JournalEntry(runId: runId, at: now, kind: .stepStatus, stepId: stepId, attempt: 1,
                     detail: ["from": .string("pending"), "to": .string("running")]),
        JournalEntry(runId: runId, at: now, kind: .intent, stepId: stepId, attempt: 1,
                     detail: ["action": .string("aws.rds.promote-read-replica"),
                              "summary": .string("promote orders-replica-\(step) in us-west-2 to a standalone primary")]),
        JournalEntry(runId: runId, at: now, kind: .outcome, stepId: stepId, attempt: 1,
                     detail: ["result": .string("succeeded"), "elapsed": .duration(42.5)]),
        JournalEntry(runId: runId, at: now, kind: .outputs, stepId: stepId, attempt: 1,
                     detail: ["endpoint": .string("orders-replica-\(step).abc.us-west-2.rds.amazonaws.com"),
                              "port": .int(5432), "lag": .double(0.25),
                              "tags": .list([.string("dr"), .string("orders")]),
                              "instance": .map(["class": .string("db.r6g.large"), "multiAZ": .bool(true)])]),
        JournalEntry(runId: runId, at: now, kind: .stepStatus, stepId: stepId, attempt: 1,
                     detail: ["from": .string("running"), "to": .string("succeeded")]),
    ]
}

func makeRun(_ id: String) -> RunRecord {
    RunRecord(id: id, runbookName: "failover", runbookPath: "Runbooks/failover.yaml", runbookDigest: String(repeating: "0", count: 64),
              runbookText: "name: failover\n", inputs: ["to": .string("us-west-2")], status: .running, createdAt: Date(),
              updatedAt: Date(), startedBy: "bench", host: ProcessInfo.processInfo.hostName, mode: "failover", lockScope: "failover")
}

do {
    let store = try SQLiteStateStore(path: directory + "/state.db")
    let clock = ContinuousClock()
    print("drctl-store-bench: \(store.path) (WAL, synchronous=FULL)")

    // 1. Journal `steps` steps, 5 durable appends each.
    try await store.createRun(makeRun("journal-run"))
    let journalTime = try await clock.measure {
        for step in 0..<steps {
            for entry in stepEntries(runId: "journal-run", step: step) { try await store.append(entry) }
        }
    }
    let appends = steps * 5
    let perAppend = seconds(journalTime) / Double(appends)
    print("journal \(steps) steps (\(appends) appends): \(format(seconds(journalTime))) s; "
          + "\(format(perAppend * 1000)) ms per append, \(format(perAppend * 5000)) ms per step "
          + "(goal: < 10 ms per append, < 50 ms per step — small beside a cloud call)")

    // 2. Load and decode a journal of `loadEntries` entries.
    try await store.createRun(makeRun("load-run"))
    var written = 0
    var step = 0
    while written < loadEntries {
        for entry in stepEntries(runId: "load-run", step: step).prefix(loadEntries - written) { try await store.append(entry) }
        written = min(written + 5, loadEntries)
        step += 1
    }
    var loadTimes: [Double] = []
    for _ in 0..<5 {
        var count = 0
        let time = try await clock.measure { count = try await store.journal(runId: "load-run").count }
        precondition(count == loadEntries, "loaded \(count) of \(loadEntries) entries")
        loadTimes.append(seconds(time))
    }
    loadTimes.sort()
    print("load + decode a journal of \(loadEntries) entries: best \(format(loadTimes.first!)) s, "
          + "median \(format(loadTimes[2])) s, worst \(format(loadTimes.last!)) s (goal: < 0.3 s)")
    if let peak = peakMemoryMiB() { print("peak memory (VmHWM): \(format(peak, 1)) MiB (goal: < 100 MiB)") }
} catch {
    FileHandle.standardError.write(Data("drctl-store-bench: \(error)\n".utf8))
    try? FileManager.default.removeItem(atPath: directory)
    exit(1)
}
try? FileManager.default.removeItem(atPath: directory)
