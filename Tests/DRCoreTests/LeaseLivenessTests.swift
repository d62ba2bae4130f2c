@testable import DRCore
import Foundation
import Testing

/// A lease whose holder on this host is gone is freed at once: a process that no longer exists,
/// one that exited and waits to be reaped (a zombie), or a pid the system has since given to an
/// unrelated process that started after the lease was taken.
@Suite("A dead local lease holder is recognised: gone, zombie or pid reused")
struct LeaseLivenessTests {
    @Test("a holder that exited but was not reaped (a zombie) is dead: its lease is released")
    func zombieHolderIsDead() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try SQLiteStateStore(path: dir.path("state.db"))
            let zombie = try SpawnedProcess(["/bin/true"])
            defer { zombie.reap() }
            // Not reaped: the process stays a zombie until `reap`.
            #expect(await poll { ProcessState.read(zombie.pid)?.hasExited == true }, "pid \(zombie.pid) never became a zombie")
            let now = Date()
            try await take(store, pid: zombie.pid, acquiredAt: now)
            #expect(try await store.liveLeaseHolder(scope: "failover", host: "this-host", now: now) == nil)
            #expect(try await store.lease(scope: "failover") == nil, "the zombie's lease was not released")
        }
    }

    @Test("a live holder that started before it took the lease is alive: the lease stays")
    func liveHolderIsAlive() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try SQLiteStateStore(path: dir.path("state.db"))
            let sleeper = try SpawnedProcess(["/bin/sleep", "600"])
            defer { sleeper.kill() }
            let now = Date().addingTimeInterval(1)
            try await take(store, pid: sleeper.pid, acquiredAt: now)
            #expect(try await store.liveLeaseHolder(scope: "failover", host: "this-host", now: now)?.pid == sleeper.pid)
        }
    }

    @Test("a pid now used by a process that started after the lease was taken is a reused pid: the holder is dead")
    func reusedPidIsDead() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try SQLiteStateStore(path: dir.path("state.db"))
            let newcomer = try SpawnedProcess(["/bin/sleep", "600"])
            defer { newcomer.kill() }
            // The lease was taken an hour before this process existed.
            let now = Date()
            try await take(store, pid: newcomer.pid, acquiredAt: now.addingTimeInterval(-3600))
            #expect(try await store.liveLeaseHolder(scope: "failover", host: "this-host", now: now) == nil)
        }
    }

    private func take(_ store: SQLiteStateStore, pid: Int32, acquiredAt: Date) async throws {
        let holder = LeaseHolder(runId: "run-1", holder: "oncall", host: "this-host", pid: pid, acquiredAt: acquiredAt,
                                 expiresAt: acquiredAt.addingTimeInterval(3600))
        // `acquireLease` dates the lease from `now`: take it as of `acquiredAt`.
        #expect(try await store.acquireLease(scope: "failover", holder: holder, ttl: 7200, now: acquiredAt) == .acquired)
    }

    private func poll(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}

/// A child started with posix_spawn and reaped only when asked (Foundation's `Process` reaps at
/// once, which would never leave a zombie).
private final class SpawnedProcess: @unchecked Sendable {
    let pid: pid_t
    private var reaped = false

    init(_ arguments: [String]) throws {
        pid = try TestChildProcess.spawn(arguments)
    }

    func kill() {
        _ = Foundation.kill(pid, SIGKILL)
        reap()
    }

    func reap() {
        guard !reaped else { return }
        reaped = true
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
}
