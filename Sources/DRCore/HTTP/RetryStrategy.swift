import Foundation

/// The AWS SDKs' "standard" retry mode, used by every cloud client (AWS, GCP): at most
/// `maxAttempts` tries, exponential backoff with full jitter capped at 20 s, and a client-wide
/// retry quota so that an outage does not turn into a retry storm.
/// https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html — Google's client
/// libraries back off the same way (exponential, jittered, capped): https://google.aip.dev/194
public struct RetryStrategy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maximumBackoff: Double
    public let quota: RetryQuota

    public init(maxAttempts: Int = 3, baseDelay: Double = 1.0, maximumBackoff: Double = 20.0, quota: RetryQuota = RetryQuota()) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maximumBackoff = maximumBackoff
        self.quota = quota
    }

    /// Delay before attempt `attempt + 1` (attempt counts from 1): `random * base * 2^(attempt-1)`,
    /// capped; a server's `Retry-After` wins when it asks for longer.
    public func backoff(afterAttempt attempt: Int, random: Double, retryAfter: Double?) -> Double {
        let exponential = min(maximumBackoff, baseDelay * pow(2, Double(attempt - 1)))
        let jittered = random * exponential
        if let retryAfter, retryAfter > jittered { return min(retryAfter, maximumBackoff) }
        return jittered
    }
}

/// The retry token bucket: each retry takes 5 tokens (10 after a timeout); a success gives back
/// what its retry took, or 1 when it needed none. Starts and caps at 500.
public final class RetryQuota: @unchecked Sendable {
    public static let capacity = 500
    public static let retryCost = 5
    public static let timeoutRetryCost = 10
    private let lock = NSLock()
    private var tokens = RetryQuota.capacity

    public init() {}

    public var available: Int {
        lock.lock()
        defer { lock.unlock() }
        return tokens
    }

    /// Takes the cost of one retry, or returns nil when the bucket cannot pay for it.
    public func acquire(afterTimeout: Bool) -> Int? {
        let cost = afterTimeout ? Self.timeoutRetryCost : Self.retryCost
        lock.lock()
        defer { lock.unlock() }
        guard tokens >= cost else { return nil }
        tokens -= cost
        return cost
    }

    public func release(_ amount: Int) {
        lock.lock()
        tokens = min(Self.capacity, tokens + amount)
        lock.unlock()
    }
}
