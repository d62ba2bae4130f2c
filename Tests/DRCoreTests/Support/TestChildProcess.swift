import Foundation

/// How the tests start a child with `posix_spawn` directly (servers that must outlive their
/// starter, zombies on purpose): without any of the test process's descriptors, and with the
/// default signal state.
///
/// Why both matter when suites run in parallel:
/// - Descriptors: Foundation's `Pipe` ends are not close-on-exec, so a child spawned plainly keeps
///   every pipe another test has open at that instant. A PostgreSQL server started by postgres.sh
///   (alive for the whole test) then holds the stdin of each `http_fixture.py` started meanwhile,
///   and the fixture's "exit when stdin closes" never fires.
/// - Signals: a child inherits the mask of the thread that spawns it, and the test's threads are
///   Dispatch workers that block SIGTERM, SIGINT and most others: the child could not be stopped
///   politely (postgres ignoring `pg_ctl stop`, a helper ignoring SIGTERM).
enum TestChildProcess {
    /// Starts `arguments` with stdin from /dev/null and stdout and stderr to `output` (or /dev/null).
    static func spawn(_ arguments: [String], output: String = "/dev/null") throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        guard closeFrom(&actions, 3) == 0 else { throw ToolFailure(command: arguments, output: "posix_spawn_file_actions_addclosefrom_np failed") }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), everyCatchable = sigset_t()
        sigemptyset(&none)
        sigfillset(&everyCatchable)
        sigdelset(&everyCatchable, SIGKILL)
        sigdelset(&everyCatchable, SIGSTOP)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &everyCatchable)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard rc == 0 else { throw ToolFailure(command: arguments, output: "posix_spawn failed: \(rc)") }
        return pid
    }

    /// glibc 2.34's `posix_spawn_file_actions_addclosefrom_np`, which the Glibc module does not
    /// import (it is declared for _GNU_SOURCE only).
    private static let closeFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            fatalError("the tests need glibc 2.34 or later (posix_spawn_file_actions_addclosefrom_np)")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Waits for `pid` (blocking the calling thread) and returns its exit code, -1 if a signal ended it.
    static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WIFEXITED/WEXITSTATUS are macros Swift does not import.
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
    }
}

/// Runs `arguments` to its end on a thread of its own (see `TestChildProcess`), output to a file.
/// Not Foundation's `Process`: postgres.sh leaves servers running that inherit its descriptors, and
/// `Process` waits for its exit-notification descriptor to close — that is, for the servers to stop too.
func spawnAndWait(_ arguments: [String], output: String) async throws -> Int32 {
    try await onOwnThread { TestChildProcess.waitForExit(try TestChildProcess.spawn(arguments, output: output)) }
}
