import Foundation

/// Shares a source's tokens per scope set until `refreshMargin` before they expire, and makes one
/// request for any number of concurrent callers (single flight per scope set; the fetch runs in its
/// own task, so one caller's cancellation does not fail the others).
///
/// The margin is 5 minutes, the AWS SDKs' margin that `RefreshingCredentialProvider` uses too;
/// google-auth refreshes 3 min 45 s ahead (`_helpers.REFRESH_THRESHOLD`). The larger margin keeps
/// a token from expiring inside a long call plus its retries. A fetch that returns a token already
/// inside the margin (a metadata server hands out its cached token until close to expiry) is used
/// for this call rather than fetched again in a loop.
public actor GoogleTokenCache: GoogleTokenSource {
    public static let refreshMargin: TimeInterval = 5 * 60

    private let source: any GoogleTokenSource
    private let margin: TimeInterval
    private let now: @Sendable () -> Date
    private var tokens: [String: GoogleAccessToken] = [:]
    private var inFlight: [String: Task<GoogleAccessToken, any Error>] = [:]
    /// Fetches made, for tests and `whoami` (one per scope set per token lifetime is the goal).
    public private(set) var fetches = 0

    public init(source: any GoogleTokenSource, refreshMargin: TimeInterval = GoogleTokenCache.refreshMargin,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.source = source
        self.margin = refreshMargin
        self.now = now
    }

    public func token(scopes: [String]) async throws -> GoogleAccessToken {
        let key = Set(scopes).sorted().joined(separator: " ")
        if let cached = tokens[key], !cached.expires(within: margin, of: now()) { return cached }
        let task: Task<GoogleAccessToken, any Error>
        if let running = inFlight[key] {
            task = running
        } else {
            fetches += 1
            let source = self.source
            task = Task { try await source.token(scopes: scopes) }
            inFlight[key] = task
        }
        do {
            let token = try await task.value
            if inFlight[key] == task {
                inFlight[key] = nil
                tokens[key] = token
            }
            return token
        } catch {
            if inFlight[key] == task { inFlight[key] = nil }
            throw error
        }
    }

    /// Drops `token` when a service refused it (revoked, or expired early): the next call fetches
    /// a fresh one. A newer token cached meanwhile is kept.
    public func invalidate(_ token: GoogleAccessToken) {
        for (key, cached) in tokens where cached == token { tokens[key] = nil }
    }
}
