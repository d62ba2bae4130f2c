import DRCore
import Foundation
import Testing
@testable import GCPProvider

/// Tokens are shared per scope set until 5 minutes before they expire; concurrent callers share one fetch.
@Suite struct TokenCacheTests {
    final class CountingSource: GoogleTokenSource, @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        let clock: TestClock
        let lifetime: TimeInterval
        init(clock: TestClock, lifetime: TimeInterval = 3600) {
            self.clock = clock
            self.lifetime = lifetime
        }
        var fetches: Int { lock.withLock { count } }
        func token(scopes: [String]) async throws -> GoogleAccessToken {
            let n = lock.withLock { count += 1; return count }
            try await Task.sleep(for: .milliseconds(50))   // long enough for every concurrent caller to arrive
            return GoogleAccessToken(value: "token-\(n)", expiry: clock.now.addingTimeInterval(lifetime))
        }
    }

    @Test func concurrentCallersShareOneFetch() async throws {
        let clock = TestClock()
        let source = CountingSource(clock: clock)
        let cache = GoogleTokenCache(source: source, now: { clock.now })
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<100 { group.addTask { try await cache.token(scopes: [GoogleScopes.cloudPlatform]).value } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(tokens == ["token-1"])
        #expect(source.fetches == 1)
    }

    @Test func refreshesFiveMinutesBeforeExpiryAndPerScopeSet() async throws {
        let clock = TestClock()
        let source = CountingSource(clock: clock)
        let cache = GoogleTokenCache(source: source, now: { clock.now })
        #expect(try await cache.token(scopes: ["a", "b"]).value == "token-1")
        #expect(try await cache.token(scopes: ["b", "a"]).value == "token-1")
        #expect(try await cache.token(scopes: ["a"]).value == "token-2")
        clock.advance(3600 - 301)
        #expect(try await cache.token(scopes: ["a", "b"]).value == "token-1")
        clock.advance(2)
        #expect(try await cache.token(scopes: ["a", "b"]).value == "token-3")
        #expect(source.fetches == 3)
    }

    @Test func anInvalidatedTokenIsFetchedAgain() async throws {
        let clock = TestClock()
        let source = CountingSource(clock: clock)
        let cache = GoogleTokenCache(source: source, now: { clock.now })
        let first = try await cache.token(scopes: ["a"])
        await cache.invalidate(first)
        #expect(try await cache.token(scopes: ["a"]).value == "token-2")
    }
}
