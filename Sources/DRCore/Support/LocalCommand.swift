import CProcess
import Foundation

/// Runs a local command through `/bin/sh -c` with a timeout, capturing bounded output. The one way
/// drctl runs commands (exec steps, `credential_process`).
///
/// The shell leads its own process group and is killed by the kernel if drctl dies (see
/// `ChildProcess`). On timeout or cancellation of the calling task the whole group is stopped
/// (SIGTERM, `grace`, SIGKILL) and the shell is reaped before `run` returns: nothing drctl started
/// keeps running behind its back, and no status is read from a process that still runs.
public enum LocalCommand {
    public struct Result: Sendable {
        public let termination: ChildProcess.Termination
        public let stdoutData: Data
        public let stderrData: Data
        /// Why drctl stopped the command; nil when it ended by itself.
        public let stopped: StopReason?

        /// The exit code, or 128 + the signal that ended it.
        public var status: Int32 { termination.status }
        public var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
        public var stderr: String { String(decoding: stderrData, as: UTF8.self) }
        public var timedOut: Bool { stopped == .timedOut }
    }

    public typealias StopReason = ChildProcess.StopReason

    /// Output beyond this is dropped (the tail is kept), so a chatty command cannot exhaust memory.
    public static let defaultOutputLimit = 64 * 1024

    /// Runs `command` with exactly `environment`. `started` is called with who the command is (for
    /// the journal) after its process exists and before it runs anything; if it throws, the command
    /// never runs and `run` rethrows. Otherwise throws only when the command cannot start (or the
    /// task is cancelled before it does).
    public static func run(_ command: String, environment: [String: String], timeout: Double, workingDirectory: String? = nil,
                           grace: Double = 2, outputLimit: Int = defaultOutputLimit,
                           started: (@Sendable (SpawnedProcess) async throws -> Void)? = nil) async throws -> Result {
        try Task.checkCancellation()
        let deadline = Date().addingTimeInterval(max(0.001, timeout))
        let stdout = try PipeEnds(), stderr = try PipeEnds()
        let nullDevice = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard nullDevice >= 0 else { throw ChildProcess.SpawnError(path: "/dev/null", code: errno) }
        let child: ChildProcess
        do {
            defer {
                close(nullDevice)
                stdout.closeWriteEnd()
                stderr.closeWriteEnd()
            }
            child = try ChildProcess(path: "/bin/sh", arguments: ["-c", command], environment: environment,
                                     workingDirectory: workingDirectory, stdin: nullDevice, stdout: stdout.write, stderr: stderr.write)
        } catch {
            stdout.closeReadEnd()
            stderr.closeReadEnd()
            throw error
        }
        let outReader = PipeCollector(stdout.read, limit: outputLimit)
        let errReader = PipeCollector(stderr.read, limit: outputLimit)
        do {
            // The command is held before exec until this returns: a crash cannot leave a command
            // running that the journal does not know of.
            try await started?(child.identity)
            try Task.checkCancellation()
            try child.release()
        } catch {
            child.abandon()
            _ = await (outReader.finish(), errReader.finish())
            throw error
        }
        // The deadline and cancellation stop the command from a timer and from the cancelling
        // thread: they hold even when the task pool is too busy to run this task in time.
        let deadlineTimer = DispatchWorkItem { child.stop(.timedOut, grace: grace) }
        DispatchQueue.global().asyncAfter(deadline: .now() + max(0, deadline.timeIntervalSinceNow), execute: deadlineTimer)
        await withTaskCancellationHandler {
            await child.exited()
        } onCancel: {
            child.stop(.cancelled, grace: grace)
        }
        deadlineTimer.cancel()
        let stopped = child.stopReason
        // What the shell started may outlive it; the leader is not reaped yet, so the group id
        // still names the command's group.
        if stopped != nil { child.signalGroup(SIGKILL) }
        let termination = await child.termination()
        async let stdoutData = outReader.finish()
        async let stderrData = errReader.finish()
        return Result(termination: termination, stdoutData: await stdoutData, stderrData: await stderrData, stopped: stopped)
    }
}

/// A pipe whose ends are close-on-exec from birth (only the child's dup2'ed copies are inherited).
private final class PipeEnds: @unchecked Sendable {
    let read: Int32
    let write: Int32
    private var writeOpen = true

    init() throws {
        var ends: [Int32] = [-1, -1]
        guard drctl_pipe(&ends) == 0 else { throw ChildProcess.SpawnError(path: "pipe", code: errno) }
        read = ends[0]
        write = ends[1]
    }

    func closeWriteEnd() {
        if writeOpen { close(write) }
        writeOpen = false
    }

    func closeReadEnd() { close(read) }
}

/// Reads a pipe to its end on its own thread, keeping the last `limit` bytes; closes it at the end.
private final class PipeCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private let done = OneTimeSignal()

    init(_ descriptor: Int32, limit: Int) {
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                lock.withLock {
                    data.append(contentsOf: buffer[..<count])
                    if data.count > limit { data = data.suffix(limit) }
                }
            }
            close(descriptor)
            done.open()
        }
    }

    /// What was read; waits at most a few seconds for the end of the stream, since a daemon the
    /// command left behind (outside its group) may hold the pipe open forever.
    func finish() async -> Data {
        _ = await done.wait(seconds: 5)
        return lock.withLock { data }
    }
}
