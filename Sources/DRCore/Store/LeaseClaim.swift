import Foundation

extension StateStore {
    /// The lease's holder while it is alive: unexpired and, when it is on this host, its process
    /// still exists. A lease left behind by a process that died on this host (a crash, `kill -9`)
    /// is released at once instead of blocking everyone until it expires; on other hosts only
    /// expiry can tell. (A recycled pid could make a dead holder look alive: then the lease just
    /// expires as usual.)
    public func liveLeaseHolder(scope: String, host: String, now: Date) async throws -> LeaseHolder? {
        guard let holder = try await lease(scope: scope), holder.expiresAt > now else { return nil }
        if holder.host == host, holder.pid != ProcessInfo.processInfo.processIdentifier, !Self.processExists(holder.pid) {
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

    static func processExists(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
