import Foundation

/// Caches another provider's credentials and resolves again only when they come within
/// `refreshMargin` of expiring. Credentials without an expiry are kept for the process's life.
///
/// Single flight: callers arriving while a refresh is running await that same refresh, so a
/// thousand concurrent requests make one STS or IMDS call. The refresh runs in its own task, so
/// one caller's cancellation does not fail the others.
///
/// The SDKs refresh 5 minutes ahead (botocore's advisory window; IMDS credentials are refreshed
/// 15 minutes ahead since IMDS rotates them from about 15 minutes before expiry).
public actor RefreshingCredentialProvider: CredentialProvider {
    public static let defaultRefreshMargin: TimeInterval = 5 * 60
    public static let instanceMetadataRefreshMargin: TimeInterval = 15 * 60

    private let base: any CredentialProvider
    private let refreshMargin: TimeInterval
    private let now: @Sendable () -> Date
    private var cached: ResolvedCredentials?
    private var refresh: Task<ResolvedCredentials, any Error>?

    public init(wrapping base: any CredentialProvider, refreshMargin: TimeInterval = defaultRefreshMargin,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.base = base
        self.refreshMargin = refreshMargin
        self.now = now
    }

    public func resolve() async throws -> ResolvedCredentials {
        if let cached, !cached.credentials.expires(within: refreshMargin, of: now()) {
            return cached
        }
        let task: Task<ResolvedCredentials, any Error>
        if let refresh {
            task = refresh
        } else {
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
            if let cached, !cached.credentials.expires(within: 0, of: now()) { return cached }
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
