import CProcess
import Foundation

/// A process drctl started (through `CProcess`): the leader of its own process group, killed by
/// the kernel when drctl dies (Linux), and reaped by drctl itself.
///
/// Its exit is watched by a thread blocked in `waitid(WNOWAIT)`: that notices the exit without
/// reaping, so the leader stays a zombie — and its pid, which is also the group id, stays taken —
/// until `reap()`. Signalling the group before the reap therefore can never reach a stranger that
/// was given a recycled pid. Waiting for the exit never depends on the waiting task: a cancelled
/// task still waits for the process it stopped, so nobody reads the status of a live process.
public final class ChildProcess: @unchecked Sendable {
    /// How a process ended.
    public enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)

        /// The shell's convention: the exit code, or 128 + the signal number.
        public var status: Int32 {
            switch self {
            case .exited(let code): code
            case .signalled(let signal): 128 + signal
            }
        }
    }

    public struct SpawnError: Error, Sendable, CustomStringConvertible {
        public let path: String
        public let code: Int32
        public var description: String { "could not start \(path): \(String(cString: strerror(code)))" }
    }

    public let pid: Int32
    /// The group it leads (its pid): `kill(-processGroup, …)` reaches what it started, too.
    public var processGroup: Int32 { pid }
    /// Who it is, durably: what a later drctl needs to find what is left of it (see `SpawnedProcess`).
    public let identity: SpawnedProcess
    private let exit = ExitSignal()
    private let lock = NSLock()
    /// Set once, by `reap()`, under `lock`.
    private var reaped: Termination?

    /// Starts `path` with `arguments` (argv[1...]) and exactly `environment`; the three descriptors
    /// become its stdin, stdout and stderr (the caller keeps and closes its own copies).
    public init(path: String, arguments: [String], environment: [String: String], workingDirectory: String? = nil,
                stdin: Int32, stdout: Int32, stderr: Int32) throws {
        let argv = CStringArray([path] + arguments)
        let envp = CStringArray(environment.map { "\($0.key)=\($0.value)" }.sorted())
        let pid: Int32 = path.withCString { cPath in
            let spawn = { (cDirectory: UnsafePointer<CChar>?) -> Int32 in
                var request = drctl_spawn_request(path: cPath, argv: argv.pointers, envp: envp.pointers, working_directory: cDirectory,
                                                  stdin_fd: stdin, stdout_fd: stdout, stderr_fd: stderr,
                                                  parent_death_signal: SIGKILL)
                return drctl_spawn(&request)
            }
            guard let workingDirectory else { return spawn(nil) }
            return workingDirectory.withCString { spawn($0) }
        }
        withExtendedLifetime((argv, envp)) {}
        guard pid > 0 else { throw SpawnError(path: path, code: -pid) }
        self.pid = pid
        self.identity = SpawnedProcess.describe(pid: pid)
        let exit = self.exit
        Thread.detachNewThread {
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
            exit.open()
        }
    }

    /// Waits until the process has exited (not cancellable: see the type's comment), reaps it and
    /// returns how it ended. Safe to call more than once.
    public func termination() async -> Termination {
        await exit.wait()
        return reap()
    }

    /// Waits for the exit, up to `seconds`; returns whether it happened. Cancellation of the
    /// calling task ends the wait early (returning false), never the process.
    public func waitForExit(seconds: Double) async -> Bool {
        await exit.wait(seconds: seconds)
    }

    public var hasExited: Bool { exit.isOpen }

    /// Stops the whole group: SIGTERM, up to `grace` seconds for the leader to exit, then SIGKILL
    /// to whatever of the group is left (the leader is not reaped yet, so the group id is still
    /// ours), and waits for the leader's exit. Not cancellable: it returns when the process is gone.
    @discardableResult
    public func stopGroup(grace: Double) async -> Termination {
        if !exit.isOpen {
            signalGroup(SIGTERM)
            if grace > 0 { _ = await exit.waitIgnoringCancellation(seconds: grace) }
        }
        signalGroup(SIGKILL)
        return await termination()
    }

    /// Sends `signal` to the process group (and to the leader itself, should it have left the group).
    public func signalGroup(_ signal: Int32) {
        // Under the lock: once reaped, the pid may belong to someone else.
        lock.withLock {
            guard reaped == nil else { return }
            _ = kill(-pid, signal)
            _ = kill(pid, signal)
        }
    }

    private func reap() -> Termination {
        lock.withLock {
            if let reaped { return reaped }
            var status: Int32 = 0
            var result: Int32
            repeat { result = waitpid(pid, &status, 0) } while result < 0 && errno == EINTR
            // ECHILD: someone else reaped it (nothing in drctl does); its status is lost.
            let termination: Termination = result < 0 ? .exited(-1)
                : (status & 0x7F) == 0 ? .exited((status >> 8) & 0xFF) : .signalled(status & 0x7F)
            reaped = termination
            return termination
        }
    }

    deinit {
        // A process nobody waited for (an error between spawn and wait): do not leave a zombie.
        if reaped == nil {
            let pid = self.pid
            kill(-pid, SIGKILL)
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            }
        }
    }
}

/// Opens once, when the process exits. Waits come in three kinds: until it opens, whatever happens
/// to the waiting task; until it opens or a time passes; and until it opens, a time passes, or the
/// task is cancelled.
private final class ExitSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var opened = false
    private var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
    private var nextId: UInt64 = 0

    var isOpen: Bool { lock.withLock { opened } }

    func open() {
        let pending = lock.withLock { () -> [CheckedContinuation<Bool, Never>] in
            opened = true
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
        pending.forEach { $0.resume(returning: true) }
    }

    func wait() async {
        _ = await register(timeout: nil)
    }

    func waitIgnoringCancellation(seconds: Double) async -> Bool {
        await register(timeout: seconds)
    }

    /// Also ends when the calling task is cancelled.
    func wait(seconds: Double) async -> Bool {
        let id = lock.withLock { () -> UInt64 in
            defer { nextId += 1 }
            return nextId
        }
        return await withTaskCancellationHandler {
            await register(timeout: seconds, id: id)
        } onCancel: {
            self.release(id, opened: false)
        }
    }

    private func register(timeout: Double?, id reserved: UInt64? = nil) async -> Bool {
        await withCheckedContinuation { continuation in
            let id: UInt64? = lock.withLock {
                if opened { return nil }
                if reserved != nil && Task.isCancelled { return nil }
                let id = reserved ?? { defer { nextId += 1 }; return nextId }()
                waiters[id] = continuation
                return id
            }
            guard let id else {
                continuation.resume(returning: isOpen)
                return
            }
            if let timeout {
                DispatchQueue.global().asyncAfter(deadline: .now() + max(0, timeout)) { self.release(id, opened: false) }
            }
        }
    }

    private func release(_ id: UInt64, opened: Bool) {
        let waiter = lock.withLock { waiters.removeValue(forKey: id) }
        waiter?.resume(returning: opened)
    }
}

/// NULL-terminated C strings that live as long as the value (argv, envp).
private final class CStringArray {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { pointers[index] = strdup(string) }
        pointers[strings.count] = nil
    }

    deinit {
        for index in 0..<count { free(pointers[index]) }
        pointers.deallocate()
    }
}
