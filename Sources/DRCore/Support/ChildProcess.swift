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
    private let path: String
    /// The group it leads (its pid): `kill(-processGroup, …)` reaches what it started, too.
    public var processGroup: Int32 { pid }
    /// Who it is, durably: what a later drctl needs to find what is left of it (see `SpawnedProcess`).
    public let identity: SpawnedProcess
    private let exit = OneTimeSignal()
    private let lock = NSLock()
    /// Set once, by `reap()` (or when it never ran), under `lock`.
    private var reaped: Termination?
    /// Forked but not yet allowed to exec.
    private var held: drctl_spawned?
    private var stopped: StopReason?

    /// Forks `path` with `arguments` (argv[1...]) and exactly `environment`, and holds it before
    /// exec until `release()` (or `abandon()`): so that who it is can be journaled before it runs.
    /// The three descriptors become its stdin, stdout and stderr (the caller keeps its copies).
    public init(path: String, arguments: [String], environment: [String: String], workingDirectory: String? = nil,
                stdin: Int32, stdout: Int32, stderr: Int32) throws {
        let argv = CStringArray([path] + arguments)
        let envp = CStringArray(environment.map { "\($0.key)=\($0.value)" }.sorted())
        let cPath = strdup(path), cDirectory = workingDirectory.map { strdup($0) }
        var request = drctl_spawn_request(path: cPath, argv: argv.pointers, envp: envp.pointers, working_directory: cDirectory ?? nil,
                                          stdin_fd: stdin, stdout_fd: stdout, stderr_fd: stderr, parent_death_signal: SIGKILL)
        var held = drctl_spawned()
        let started = drctl_spawn_start(&request, &held)
        guard started == 0 else {
            free(cPath)
            cDirectory.map { free($0) }
            throw SpawnError(path: path, code: -started)
        }
        // The child holds its own copies of everything (fork); these only had to outlive the fork.
        free(cPath)
        cDirectory.map { free($0) }
        withExtendedLifetime((argv, envp)) {}
        self.path = path
        self.pid = held.pid
        self.held = held
        self.identity = SpawnedProcess.describe(pid: held.pid)
    }

    /// Lets the held process exec. Throws when it could not (a missing working directory, an
    /// executable that is not there): then nothing ran and nothing is left.
    public func release() throws {
        guard var held = lock.withLock({ () -> drctl_spawned? in defer { self.held = nil }; return self.held }) else { return }
        let result = drctl_spawn_release(&held)
        guard result == 0 else {
            lock.withLock { reaped = .exited(127) }
            exit.open()
            throw SpawnError(path: path, code: -result)
        }
        let pid = self.pid, exit = self.exit
        Thread.detachNewThread {
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
            exit.open()
        }
    }

    /// The held process exits without running anything (and is reaped).
    public func abandon() {
        guard var held = lock.withLock({ () -> drctl_spawned? in defer { self.held = nil }; return self.held }) else { return }
        drctl_spawn_abandon(&held)
        lock.withLock { reaped = .signalled(SIGKILL) }
        exit.open()
    }

    /// Returns once the process has exited, whatever happens to the calling task meanwhile.
    public func exited() async {
        await exit.wait()
    }

    /// Waits until the process has exited (not cancellable: see the type's comment), reaps it and
    /// returns how it ended. Safe to call more than once.
    public func termination() async -> Termination {
        await exit.wait()
        return reap()
    }

    public var hasExited: Bool { exit.isOpen }

    /// Why drctl stopped a process.
    public enum StopReason: Sendable, Equatable {
        case timedOut
        /// The task waiting for it was cancelled (a step's timeout, a second Ctrl-C).
        case cancelled
    }

    /// Set by the first `stop` that reached the process while it still ran.
    public var stopReason: StopReason? { lock.withLock { stopped } }

    /// Stops the whole group, from any thread and at once (timers and cancellation handlers call
    /// it, so enforcing a deadline never waits for a busy task pool): SIGTERM now, SIGKILL to what
    /// is left of the group `grace` seconds later. Only the first call while it runs counts.
    public func stop(_ reason: StopReason, grace: Double) {
        let first = lock.withLock { () -> Bool in
            guard reaped == nil, held == nil, stopped == nil, !exit.isOpen else { return false }
            stopped = reason
            _ = kill(-pid, SIGTERM)
            _ = kill(pid, SIGTERM)
            return true
        }
        guard first else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + max(0, grace)) { [weak self] in self?.signalGroup(SIGKILL) }
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
        if var held {
            drctl_spawn_abandon(&held)
            return
        }
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
