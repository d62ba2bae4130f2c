import DRCore
import Foundation
import Synchronization
import Testing

@Suite("ReadCoalescer merges reads that arrive together into one fetch")
struct ReadCoalescerTests {
    /// Records each fetch's group and keys; answers every key but "missing" with its upper-case form.
    final class FetchLog: Sendable {
        let fetches = Mutex<[(String, [String])]>([])
        let failing: Bool

        init(failing: Bool = false) { self.failing = failing }

        func fetch(_ group: String, _ keys: [String]) throws -> [String: String] {
            fetches.withLock { $0.append((group, keys.sorted())) }
            if failing { throw CancellationError() }
            return Dictionary(uniqueKeysWithValues: keys.filter { $0 != "missing" }.map { ($0, $0.uppercased()) })
        }
    }

    // Windows here are long and batches sized to the reads, so a batch goes out because it is full
    // (or its long window ended), never because a busy machine delayed a reader past a short window.

    @Test("reads of one group within the window share one fetch; other groups get their own")
    func readsWithinTheWindowShareAFetch() async throws {
        let log = FetchLog()
        let coalescer = ReadCoalescer<String, String, String>(window: .seconds(1), maxBatch: 4) { group, keys, _ in
            try log.fetch(group, keys)
        }
        let values = try await withThrowingTaskGroup(of: (String, String?).self) { group in
            for key in ["a", "b", "c", "missing"] {
                group.addTask { (key, try await coalescer.read(key, in: "us-west-2")) }
            }
            group.addTask { ("z", try await coalescer.read("z", in: "us-east-1")) }
            var values: [String: String?] = [:]
            for try await (key, value) in group { values[key] = value }
            return values
        }
        #expect(values["a"] == "A" && values["c"] == "C" && values["z"] == "Z")
        #expect(values["missing"] == .some(nil))
        let fetches = log.fetches.withLock { $0 }.sorted { $0.0 < $1.0 }
        #expect(fetches.map(\.0) == ["us-east-1", "us-west-2"])
        #expect(fetches.last?.1 == ["a", "b", "c", "missing"])
    }

    @Test("a read after a batch has gone out is answered by a new fetch, never by the older one")
    func aLaterReadIsFresh() async throws {
        let log = FetchLog()
        let coalescer = ReadCoalescer<String, String, String>(window: .milliseconds(5), maxBatch: 10) { group, keys, _ in
            try log.fetch(group, keys)
        }
        _ = try await coalescer.read("a", in: "r")
        _ = try await coalescer.read("a", in: "r")
        #expect(log.fetches.withLock { $0.count } == 2)
    }

    @Test("a full batch goes out at once with its readers; the next reads start another")
    func fullBatchesSplit() async throws {
        let log = FetchLog()
        let coalescer = ReadCoalescer<String, String, String>(window: .seconds(1), maxBatch: 3) { group, keys, _ in
            try log.fetch(group, keys)
        }
        let keys = (0..<7).map { "k\($0)" }
        let values = try await withThrowingTaskGroup(of: String?.self) { group in
            for key in keys { group.addTask { try await coalescer.read(key, in: "r") } }
            var values: [String] = []
            for try await value in group { values.append(value ?? "nil") }
            return values
        }
        #expect(Set(values) == Set(keys.map { $0.uppercased() }))
        let sizes = log.fetches.withLock { $0.map(\.1.count) }.sorted()
        #expect(sizes == [1, 3, 3])
    }

    // The tests below would wait an hour if a full batch waited for its window: the time limit fails them.

    @Test("a failed fetch is the error of every read that joined it", .timeLimit(.minutes(1)))
    func aFailedFetchFailsEveryReader() async throws {
        let log = FetchLog(failing: true)
        let coalescer = ReadCoalescer<String, String, String>(window: .seconds(3600), maxBatch: 2) { group, keys, _ in
            try log.fetch(group, keys)
        }
        let failures = await withTaskGroup(of: Bool.self) { group in
            for key in ["a", "b"] {
                group.addTask { (try? await coalescer.read(key, in: "r")) == nil }
            }
            var failures = 0
            for await failed in group where failed { failures += 1 }
            return failures
        }
        #expect(failures == 2)
        #expect(log.fetches.withLock { $0.count } == 1)
    }

    @Test("a cancelled reader stops waiting at once, and a call nobody waits for any more is cancelled")
    func aCancelledReaderStopsWaiting() async throws {
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let fetchWasCancelled = Mutex(false)
        let coalescer = ReadCoalescer<String, String, String>(window: .milliseconds(5), maxBatch: 10) { _, keys, _ in
            startedContinuation.yield()
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                fetchWasCancelled.withLock { $0 = true }
                throw error
            }
            return Dictionary(uniqueKeysWithValues: keys.map { ($0, $0) })
        }
        let reader = Task { try await coalescer.read("a", in: "r") }
        var iterator = started.makeAsyncIterator()
        _ = await iterator.next()   // the call is out
        reader.cancel()
        await #expect(throws: CancellationError.self) { _ = try await reader.value }
        // The fetch's cancellation arrives through the actor; wait for it with the engine's waiter.
        let waiter = Waiter<Bool>(what: "the fetch to be cancelled", minimumDelay: 0.01, maximumDelay: 0.05) { $0 ? .success : .retry }
        _ = try await waiter.wait(until: Date().addingTimeInterval(10)) { fetchWasCancelled.withLock { $0 } }
    }

    @Test("the batch's call carries the latest deadline of its readers, none when one reader has none", .timeLimit(.minutes(1)))
    func theLatestDeadlineWins() async throws {
        let seen = Mutex<[Date?]>([])
        let coalescer = ReadCoalescer<String, String, String>(window: .seconds(3600), maxBatch: 2) { _, keys, deadline in
            seen.withLock { $0.append(deadline) }
            return Dictionary(uniqueKeysWithValues: keys.map { ($0, $0) })
        }
        let early = Date().addingTimeInterval(10), late = Date().addingTimeInterval(20)
        async let first = coalescer.read("a", in: "r", deadline: early)
        async let second = coalescer.read("b", in: "r", deadline: late)
        _ = try await (first, second)
        async let third = coalescer.read("a", in: "r", deadline: early)
        async let fourth = coalescer.read("b", in: "r")
        _ = try await (third, fourth)
        #expect(seen.withLock { $0 } == [late, nil])
    }

    @Test("a batch that fills up does not wait for its window", .timeLimit(.minutes(1)))
    func aFullBatchDoesNotWaitForTheWindow() async throws {
        let log = FetchLog()
        let coalescer = ReadCoalescer<String, String, String>(window: .seconds(3600), maxBatch: 1) { group, keys, _ in
            try log.fetch(group, keys)
        }
        for key in ["a", "b", "a"] { #expect(try await coalescer.read(key, in: "r") == key.uppercased()) }
        #expect(log.fetches.withLock { $0.count } == 3)
    }
}
