import Foundation

/// The one way drctl waits for something to become true: poll, classify the observation with
/// acceptors (success, retry, failure), back off exponentially with jitter, and give up at a
/// deadline. Modelled on the AWS SDK waiters (acceptors + min/max delay + max wait time).
public struct Waiter<Observation: Sendable>: Sendable {
    public enum Verdict: Sendable, Equatable {
        case success
        case retry
        case failure(String)
    }

    public struct TimedOut: Error, Sendable, CustomStringConvertible {
        public let what: String
        public let waited: Double
        public let lastObservation: String
        public var description: String {
            "gave up waiting for \(what) after \(DurationText.format(waited)) (last seen: \(lastObservation))"
        }
    }

    public struct Failed: Error, Sendable, CustomStringConvertible {
        public let what: String
        public let reason: String
        public var description: String { "\(what): \(reason)" }
    }

    public let what: String
    public var minimumDelay: Double
    public var maximumDelay: Double
    public let acceptor: @Sendable (Observation) -> Verdict
    public let clock: any EngineClock

    public init(what: String, minimumDelay: Double = 1, maximumDelay: Double = 30, clock: any EngineClock = SystemClock(),
                acceptor: @escaping @Sendable (Observation) -> Verdict) {
        self.what = what
        self.minimumDelay = minimumDelay
        self.maximumDelay = max(minimumDelay, maximumDelay)
        self.acceptor = acceptor
        self.clock = clock
    }

    /// Polls `observe` until an acceptor says success (returns the observation) or failure, or
    /// until `deadline` (throws `TimedOut`). Cancellation stops the wait at once.
    public func wait(until deadline: Date, observe: @Sendable () async throws -> Observation) async throws -> Observation {
        let started = clock.now()
        var delay = minimumDelay
        var attempt = 0
        while true {
            let observation = try await observe()
            switch acceptor(observation) {
            case .success:
                return observation
            case .failure(let reason):
                throw Failed(what: what, reason: reason)
            case .retry:
                break
            }
            attempt += 1
            let now = clock.now()
            let remaining = deadline.timeIntervalSince(now)
            guard remaining > 0 else {
                throw TimedOut(what: what, waited: now.timeIntervalSince(started), lastObservation: "\(observation)")
            }
            // Full jitter over [min, delay], never past the deadline.
            let sleep = min(remaining, minimumDelay + Double.random(in: 0...1) * max(0, delay - minimumDelay))
            try await clock.sleep(seconds: sleep)
            delay = min(maximumDelay, delay * 2)
        }
    }
}

/// Time for the engine: real in production, controllable in tests.
public protocol EngineClock: Sendable {
    func now() -> Date
    func sleep(seconds: Double) async throws
}

public struct SystemClock: EngineClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(for: .seconds(saturating: seconds))
    }
}
