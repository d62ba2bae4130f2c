import Foundation

/// A python3 process that opens the store's file with its own SQLite, begins a write transaction,
/// journals one entry in it (when given a run), says "locked", holds the lock for `holdSeconds`,
/// then commits.
final class LockingProcess: @unchecked Sendable {
    private let process = Process()

    private static let script = """
    import sqlite3, sys, time
    path, run, hold = sys.argv[1], sys.argv[2], float(sys.argv[3])
    con = sqlite3.connect(path, isolation_level=None, timeout=10)
    con.execute("BEGIN IMMEDIATE")
    if run:
        con.execute("INSERT INTO journal (run_id, seq, at, kind, step_id, attempt, detail) "
                    "VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM journal WHERE run_id = ?), ?, 'run.note', NULL, NULL, ?)",
                    (run, run, time.time(), '{"by":{"string":{"_0":"python"}}}'))
    print("locked", flush=True)
    time.sleep(hold)
    con.execute("COMMIT")
    """

    /// Returns once python holds the lock. The wait for it blocks a thread of its own, not one of
    /// the task pool's (the other tests' async code needs those meanwhile).
    static func start(path: String, runId: String?, holdSeconds: Double) async throws -> LockingProcess {
        try await onOwnThread { try LockingProcess(path: path, runId: runId, holdSeconds: holdSeconds) }
    }

    private init(path: String, runId: String?, holdSeconds: Double) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, path, runId ?? "", String(holdSeconds)]
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Wait until the transaction is open; availableData blocks until python writes or exits.
        var seen = ""
        while !seen.contains("locked") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw ToolFailure(command: ["python3"], output: "exited before taking the lock: \(seen)") }
            seen += String(decoding: chunk, as: UTF8.self)
        }
    }

    /// Waits (on a thread of its own) for python to commit and exit; returns its exit status.
    func finish() async throws -> Int32 {
        let process = self.process
        return try await onOwnThread {
            process.waitUntilExit()
            return process.terminationStatus
        }
    }
}
