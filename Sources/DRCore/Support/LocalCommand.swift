import Foundation

/// Runs a local command through `/bin/sh -c` with a timeout, capturing bounded output.
public enum LocalCommand {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        public let timedOut: Bool
    }

    /// Output beyond this is dropped (the tail is kept), so a chatty command cannot exhaust memory.
    static let outputLimit = 64 * 1024

    public static func run(_ command: String, environment: [String: String], timeout: Double,
                           workingDirectory: String? = nil) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.environment = environment
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice

        let outReader = PipeCollector(out.fileHandleForReading)
        let errReader = PipeCollector(err.fileHandleForReading)
        let exited = OneShotGate()
        process.terminationHandler = { _ in exited.open() }
        try process.run()
        outReader.start()
        errReader.start()

        let timedOut = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await exited.wait(); return false }
            group.addTask {
                try? await Task.sleep(for: .seconds(saturating: max(0.001, timeout)))
                return !Task.isCancelled
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if timedOut || Task.isCancelled {
            // The command runs as the leader of its own process group: signal the group, so that
            // what the shell started (a `sleep`, a pipeline) stops too and releases the pipes.
            let pid = process.processIdentifier
            kill(-pid, SIGTERM)
            process.terminate()
            try? await Task.sleep(for: .seconds(2))
            if process.isRunning { kill(-pid, SIGKILL); kill(pid, SIGKILL) }
            await exited.wait()
            kill(-pid, SIGKILL)
        }
        let status = process.terminationStatus
        return Result(status: status, stdout: outReader.finish(), stderr: errReader.finish(), timedOut: timedOut)
    }
}

/// Reads a pipe to its end on its own thread, keeping the last `outputLimit` bytes.
private final class PipeCollector: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) { self.handle = handle }

    func start() {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock()
                data.append(chunk)
                if data.count > LocalCommand.outputLimit { data = data.suffix(LocalCommand.outputLimit) }
                lock.unlock()
            }
            done.signal()
        }
    }

    /// What was read; waits at most a few seconds for the end of the stream, since a daemon the
    /// command left behind may hold the pipe open forever.
    func finish() -> String {
        _ = done.wait(timeout: .now() + 5)
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}
