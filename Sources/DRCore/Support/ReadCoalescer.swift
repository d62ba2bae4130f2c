import Foundation

/// Merges single-key reads that arrive close together into one batched call: the first read of a
/// group (e.g. a region) opens a batch, reads of the same group within `window` join it, and one
/// `fetch` answers them all (a batch that reaches `maxBatch` keys goes out at once). A failover's twenty fence steps each waiting for "stopped" become one
/// DescribeDBInstances per poll instead of twenty.
///
/// Every read is fresh: a read never joins a batch whose call has already been sent, so a waiter
/// polling after a change always sees state read after that change. Keys missing from the fetch's
/// answer read as nil (not found); an error of the fetch is every joined reader's error.
///
/// A reader whose task is cancelled (a step's timeout, a second Ctrl-C) stops waiting at once
/// with `CancellationError`; a call whose readers are all gone is cancelled too.
public actor ReadCoalescer<Group: Hashable & Sendable, Key: Hashable & Sendable, Value: Sendable> {
    /// Answers one batch: the keys of one group (at most `maxBatch`) and the latest deadline among
    /// the readers that joined it.
    public typealias Fetch = @Sendable (Group, [Key], Date?) async throws -> [Key: Value]

    private struct Batch {
        var keys: [Key] = []
        var deadline: Date?
        var hasNoDeadline = false
        /// The readers waiting for this batch, by reader id: the key each asked for and its continuation.
        var readers: [Int: (key: Key, continuation: CheckedContinuation<Value?, any Error>)] = [:]
        /// Sealed: its call is out (or about to go); nobody joins it any more.
        var sealed = false
        /// The window: sends the call when it ends.
        var timer: Task<Void, Never>?
        /// The call.
        var task: Task<Void, Never>?

        mutating func add(_ key: Key, deadline readerDeadline: Date?) {
            if !keys.contains(key) { keys.append(key) }
            // The call must outlive every reader's deadline; a reader without one lets it wait for the client's own.
            if let readerDeadline {
                deadline = max(deadline ?? readerDeadline, readerDeadline)
            } else {
                hasNoDeadline = true
            }
        }
    }

    private let window: Duration
    private let maxBatch: Int
    private let fetch: Fetch
    private var batches: [Int: Batch] = [:]
    /// The batch of each group that still takes readers.
    private var open: [Group: Int] = [:]
    private var nextId = 0

    /// - Parameters:
    ///   - window: how long a batch waits for more reads before its call goes out. A few
    ///     milliseconds: small against a cloud API's round trip, long enough for steps started
    ///     together to meet.
    ///   - maxBatch: the most keys one call may carry (the API's limit).
    public init(window: Duration = .milliseconds(10), maxBatch: Int, fetch: @escaping Fetch) {
        self.window = window
        self.maxBatch = max(1, maxBatch)
        self.fetch = fetch
    }

    /// The value for `key` in `group`, or nil when the fetch does not return it.
    public func read(_ key: Key, in group: Group, deadline: Date? = nil) async throws -> Value? {
        let batch = join(key, group: group, deadline: deadline)
        let reader = nextId
        nextId += 1
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard !Task.isCancelled else { return continuation.resume(throwing: CancellationError()) }
                batches[batch]?.readers[reader] = (key, continuation)
            }
        } onCancel: {
            Task { await self.cancel(reader: reader, of: batch) }
        }
    }

    /// The open batch of `group`, else a new one. A batch that is full goes out at once; the
    /// others when their window ends.
    private func join(_ key: Key, group: Group, deadline: Date?) -> Int {
        let id: Int
        // An open batch has room: one that fills up is sent (and closed) at once.
        if let openId = open[group], var batch = batches[openId] {
            id = openId
            batch.add(key, deadline: deadline)
            batches[id] = batch
        } else {
            id = nextId
            nextId += 1
            var batch = Batch()
            batch.add(key, deadline: deadline)
            let window = self.window
            batch.timer = Task {   // runs on this actor
                try? await Task.sleep(for: window)
                self.send(id, group: group)
            }
            batches[id] = batch
            open[group] = id
        }
        if batches[id]?.keys.count == maxBatch { send(id, group: group) }
        return id
    }

    /// Seals the batch (nobody joins it any more) and starts its call, once. The call starts on
    /// this actor after the reader now joining has registered.
    private func send(_ id: Int, group: Group) {
        guard var batch = batches[id], !batch.sealed else { return }
        if open[group] == id { open[group] = nil }
        batch.sealed = true
        batch.timer?.cancel()
        let fetch = self.fetch
        batch.task = Task {
            guard let (keys, deadline) = self.waitingKeys(id) else { return }
            self.deliver(id, await Result.catching { try await fetch(group, keys, deadline) })
        }
        batches[id] = batch
    }

    /// The keys and deadline of a sealed batch's call; nil (and the batch gone) when every reader
    /// has left already.
    private func waitingKeys(_ id: Int) -> ([Key], Date?)? {
        guard let batch = batches[id] else { return nil }
        guard !batch.readers.isEmpty else {
            batches[id] = nil
            return nil
        }
        return (batch.keys, batch.hasNoDeadline ? nil : batch.deadline)
    }

    private func deliver(_ id: Int, _ result: Result<[Key: Value], any Error>) {
        guard let batch = batches.removeValue(forKey: id) else { return }
        for (key, continuation) in batch.readers.values { continuation.resume(with: result.map { $0[key] }) }
    }

    private func cancel(reader: Int, of id: Int) {
        guard var batch = batches[id], let waiting = batch.readers.removeValue(forKey: reader) else { return }
        waiting.continuation.resume(throwing: CancellationError())
        batches[id] = batch
        // Nobody waits for this call any more: stop it (an open batch is left to others who may join).
        if batch.readers.isEmpty && batch.sealed { batch.task?.cancel() }
    }
}
