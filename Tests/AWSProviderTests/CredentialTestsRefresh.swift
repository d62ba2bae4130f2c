import Foundation
import Testing
@testable import AWSProvider

/// `RefreshingCredentialProvider`: caching, refresh ahead of expiry, single flight.
struct RefreshingCredentialTests {
    @Test func staticCredentialsAreResolvedOnce() async throws {
        let clock = ManualClock()
        let base = CountingProvider(clock: clock, lifetime: nil)
        let cache = RefreshingCredentialProvider(wrapping: base, now: { clock.now })
        for _ in 0..<5 {
            _ = try await cache.resolve()
            clock.advance(by: 86_400 * 30)
        }
        #expect(base.count == 1)
    }

    @Test func temporaryCredentialsAreRefreshedFiveMinutesBeforeExpiry() async throws {
        let clock = ManualClock()
        let base = CountingProvider(clock: clock, lifetime: 3600)
        let cache = RefreshingCredentialProvider(wrapping: base, now: { clock.now })
        #expect(try await cache.resolve().credentials.accessKeyId == "AKIACOUNT1")
        clock.advance(by: 3600 - 301)
        #expect(try await cache.resolve().credentials.accessKeyId == "AKIACOUNT1")
        clock.advance(by: 2)
        #expect(try await cache.resolve().credentials.accessKeyId == "AKIACOUNT2")
        #expect(base.count == 2)
    }

    @Test func instanceMetadataMarginRefreshesFifteenMinutesAhead() async throws {
        let clock = ManualClock()
        let base = CountingProvider(clock: clock, lifetime: 3600)
        let cache = RefreshingCredentialProvider(wrapping: base, refreshMargin: RefreshingCredentialProvider.instanceMetadataRefreshMargin,
                                                 now: { clock.now })
        _ = try await cache.resolve()
        clock.advance(by: 3600 - 14 * 60)
        _ = try await cache.resolve()
        #expect(base.count == 2)
    }

    @Test func concurrentCallersShareOneRefresh() async throws {
        let clock = ManualClock()
        let base = CountingProvider(clock: clock, lifetime: 3600, delay: .milliseconds(200))
        let cache = RefreshingCredentialProvider(wrapping: base, now: { clock.now })
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { try await cache.resolve().credentials.accessKeyId } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(base.count == 1)
        #expect(keys == ["AKIACOUNT1"])
    }

    @Test func failedRefreshKeepsCredentialsUntilTheyExpire() async throws {
        let clock = ManualClock()
        let base = CountingProvider(clock: clock, lifetime: 3600)
        let cache = RefreshingCredentialProvider(wrapping: base, now: { clock.now })
        _ = try await cache.resolve()
        base.fail(true)
        clock.advance(by: 3600 - 60)
        #expect(try await cache.resolve().credentials.accessKeyId == "AKIACOUNT1")
        clock.advance(by: 120)
        await #expect(throws: CredentialError.self) { try await cache.resolve() }
        base.fail(false)
        #expect(try await cache.resolve().credentials.accessKeyId == "AKIACOUNT4")
    }

    @Test func sourceServingTheSameCredentialsIsAskedAtMostOncePerInterval() async throws {
        let clock = ManualClock()
        let base = CountingProvider(clock: clock, lifetime: nil, fixedExpiration: clock.now.addingTimeInterval(600))
        let cache = RefreshingCredentialProvider(wrapping: base, refreshMargin: RefreshingCredentialProvider.instanceMetadataRefreshMargin,
                                                 now: { clock.now })
        for _ in 0..<10 {
            _ = try await cache.resolve()
            clock.advance(by: 10)
        }
        #expect(base.count == 2, "one initial resolve, one retry after 60 s, not one per call")
    }
}
