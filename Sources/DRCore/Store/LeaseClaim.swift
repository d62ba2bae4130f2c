import Foundation

extension StateStore {
    /// The lease's holder while it is alive: unexpired and, when it is on this host, its process
    /// still running. A lease left behind by a process that died on this host (a crash, `kill -9`,
    /// an exit its parent has not reaped yet) is released at once instead of blocking everyone
    /// until it expires; on other hosts only expiry can tell.
    public func liveLeaseHolder(scope: String, host: String, now: Date) async throws -> LeaseHolder? {
        guard let holder = try await lease(scope: scope), holder.expiresAt > now else { return nil }
        if holder.host == host, holder.pid != ProcessInfo.processInfo.processIdentifier, !Self.isRunning(holder) {
            try await releaseLease(scope: scope, runId: holder.runId)
            return nil
        }
        return holder
    }

    /// Takes the lease for `holder`'s run, or throws `LeaseHeldError` naming who has it.
    public func claimLease(scope: String, holder: LeaseHolder, ttl: Double, now: Date) async throws {
        _ = try await liveLeaseHolder(scope: scope, host: holder.host, now: now)   // frees a dead local holder's lease
        if case .heldBy(let other) = try await acquireLease(scope: scope, holder: holder, ttl: ttl, now: now) {
            throw LeaseHeldError(scope: scope, holder: other)
        }
    }

    /// Whether the holder's process still runs on this host. A pid that exists may be a zombie
    /// (exited, unreaped) or, after the holder died, a recycled pid of a process that started
    /// after the lease was taken: neither is the holder. Where /proc is missing, existence is all
    /// there is to go on.
    static func isRunning(_ holder: LeaseHolder) -> Bool {
        guard holder.pid > 0, kill(holder.pid, 0) == 0 || errno == EPERM else { return false }
        guard let process = ProcessState.read(holder.pid) else { return true }
        if process.hasExited { return false }
        // The holder was running when it took the lease. Slack for the tick and boot-time rounding
        // (and clock steps since boot): a pid reused within it still looks alive and the lease
        // expires as usual.
        if let startedAt = process.startedAt, startedAt > holder.acquiredAt.addingTimeInterval(5) { return false }
        return true
    }
}
