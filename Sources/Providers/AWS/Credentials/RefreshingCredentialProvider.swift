import Foundation

/// Caches another provider's credentials and resolves again only when they come within
/// `refreshMargin` of expiring. Credentials without an expiry are kept for the process's life.
///
/// Single flight: callers arriving while a refresh is running await that same refresh, so a
/// thousand concurrent requests make one STS or IMDS call. The refresh runs in its own task, so
/// one caller's cancellation does not fail the others.
///
/// The SDKs refresh 5 minutes ahead; IMDS credentials 15 minutes ahead. Inside that window a
/// source may keep serving the same credentials (IMDS rotates only about five minutes before
/// expiry), and a source may be down; so while the cached credentials stay valid for more than
/// `minimumRefreshInterval`, a refresh is attempted at most once per that interval, not per call.
public actor RefreshingCredentialProvider: CredentialProvider {
    public static let defaultRefreshMargin: TimeInterval = 5 * 60
    public static let instanceMetadataRefreshMargin: TimeInterval = 15 * 60

    private let base: any CredentialProvider
    private let refreshMargin: TimeInterval
    private let minimumRefreshInterval: TimeInterval
    private let now: @Sendable () -> Date
    private var cached: ResolvedCredentials?
    private var lastAttempt: Date?
    private var refresh: Task<ResolvedCredentials, any Error>?

    public init(wrapping base: any CredentialProvider, refreshMargin: TimeInterval = defaultRefreshMargin,
                minimumRefreshInterval: TimeInterval = 60, now: @escaping @Sendable () -> Date = { Date() }) {
        self.base = base
        self.refreshMargin = refreshMargin
        self.minimumRefreshInterval = minimumRefreshInterval
        self.now = now
    }

    public func resolve() async throws -> ResolvedCredentials {
        let now = self.now()
        if let cached {
            if !cached.credentials.expires(within: refreshMargin, of: now) { return cached }
            if let lastAttempt, now.timeIntervalSince(lastAttempt) < minimumRefreshInterval,
               !cached.credentials.expires(within: minimumRefreshInterval, of: now) {
                return cached
            }
        }
        let task: Task<ResolvedCredentials, any Error>
        if let refresh {
            task = refresh
        } else {
            lastAttempt = now
            let base = self.base
            task = Task { try await base.resolve() }
            refresh = task
        }
        do {
            let fresh = try await task.value
            finish(task, with: fresh)
            return fresh
        } catch {
            finish(task, with: nil)
            // Still-valid credentials beat an outage of the credential source: keep using them
            // until they actually expire.
            if let cached, !cached.credentials.expires(within: 0, of: self.now()) { return cached }
            throw error
        }
    }

    /// Every awaiting caller comes here; only the first for a given task updates the state.
    private func finish(_ task: Task<ResolvedCredentials, any Error>, with fresh: ResolvedCredentials?) {
        guard refresh == task else { return }
        refresh = nil
        if let fresh { cached = fresh }
    }
}
