import Dispatch
import Foundation

/// How long a state store rides through an outage before it gives up: a restarted PostgreSQL
/// server, a connection the server terminated, SQLite's write lock held past the busy timeout, a
/// transient I/O error. Each store classifies its own errors; this only waits, through `Waiter`.
///
/// The deadline is the store's (`outageTolerance`, default 30 s), narrowed by a caller that has a
/// nearer one (`StoreRetry.withDeadline`, e.g. a step's own deadline). Waiting ignores task
/// cancellation on purpose: a journal write made by a step its timeout just cancelled must still
/// land (or fail as an outage), never vanish half-way.
public struct StoreRetry: Sendable {
    /// Seconds from a call's first attempt after which a store still failing transiently throws
    /// `StateStoreError(.unavailable)`.
    public var outageTolerance: Double
    public var minimumDelay: Double
    public var maximumDelay: Double

    public init(outageTolerance: Double = 30, minimumDelay: Double = 0.05, maximumDelay: Double = 2) {
        self.outageTolerance = max(0, outageTolerance)
        self.minimumDelay = minimumDelay
        self.maximumDelay = maximumDelay
    }

    /// No retries: the first transient failure is the answer (stores opened only to read, tests).
    public static let none = StoreRetry(outageTolerance: 0)

    /// A nearer deadline for store calls made inside `body` (by this task and its children).
    @TaskLocal public static var callerDeadline: Date?

    public static func withDeadline<T>(_ deadline: Date, _ body: () async throws -> T) async rethrows -> T {
        let nearest = callerDeadline.map { min($0, deadline) } ?? deadline
        return try await $callerDeadline.withValue(nearest, operation: body)
    }

    /// Calls `attempt` (with its attempt number, 1, 2, …) until it returns, throws an error that
    /// `isTransient` rejects (rethrown as is), or the deadline passes: then `outage` turns the
    /// last transient error and the time waited into the error thrown.
    func run<T: Sendable>(isTransient: @escaping @Sendable (any Error) -> Bool,
                          outage: (any Error, Double) -> any Error,
                          _ attempt: @escaping @Sendable (Int) async throws -> T) async throws -> T {
        let started = Date()
        var deadline = started.addingTimeInterval(outageTolerance)
        if let caller = Self.callerDeadline { deadline = min(deadline, caller) }
        let counter = AttemptCounter()
        let waiter = Waiter<Attempt<T>>(what: "the state store", minimumDelay: minimumDelay, maximumDelay: maximumDelay,
                                        clock: UninterruptibleClock()) { observation in
            if case .done = observation { return .success }
            return .retry
        }
        do {
            let result = try await waiter.wait(until: deadline) {
                do {
                    return .done(try await attempt(counter.next()))
                } catch where isTransient(error) {
                    counter.record(error)
                    return .transientFailure(error)
                }
            }
            guard case .done(let value) = result else { preconditionFailure("the waiter returns only accepted observations") }
            return value
        } catch is Waiter<Attempt<T>>.TimedOut {
            throw outage(counter.lastError ?? StateStoreError(.unavailable, "unavailable"), Date().timeIntervalSince(started))
        }
    }
}

/// One try of a store call: its value, or a failure worth another try.
enum Attempt<T: Sendable>: Sendable, CustomStringConvertible {
    case done(T)
    case transientFailure(any Error)

    var description: String {
        switch self {
        case .done: return "done"
        case .transientFailure(let error): return String(describing: error)
        }
    }
}

/// Numbers the attempts of one call and keeps its last transient error (for the outage message).
private final class AttemptCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var error: (any Error)?

    func next() -> Int { lock.withLock { count += 1; return count } }
    func record(_ error: any Error) { lock.withLock { self.error = error } }
    var lastError: (any Error)? { lock.withLock { error } }
}

/// Sleeps on a dispatch timer instead of `Task.sleep`, so that a cancelled caller still waits.
struct UninterruptibleClock: EngineClock {
    func now() -> Date { Date() }
    func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { continuation.resume() }
        }
    }
}
