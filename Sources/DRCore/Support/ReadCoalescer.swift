import Foundation

/// Merges single-key reads that arrive close together into one batched call: the first read of a
/// group (e.g. a region) opens a batch, reads of the same group within `window` join it, and one
/// `fetch` answers them all. A failover's twenty fence steps each waiting for "stopped" become one
/// DescribeDBInstances per poll instead of twenty.
///
/// Every read is fresh: a read never joins a batch whose call has already been sent, so a waiter
/// polling after a change always sees state read after that change. Keys missing from the fetch's
/// answer read as nil (not found); an error of the fetch is every joined reader's error.
public actor ReadCoalescer<Group: Hashable & Sendable, Key: Hashable & Sendable, Value: Sendable> {
    /// Answers one batch: the keys of one group (at most `maxBatch`) and the latest deadline among
    /// the readers that joined it.
    public typealias Fetch = @Sendable (Group, [Key], Date?) async throws -> [Key: Value]

    private struct OpenBatch {
        let id: Int
        var keys: [Key]
        var deadline: Date?
        var hasNoDeadline: Bool
        let task: Task<[Key: Value], any Error>
    }

    private let window: Duration
    private let maxBatch: Int
    private let fetch: Fetch
    private var open: [Group: OpenBatch] = [:]
    private var sealed: [Int: (keys: [Key], deadline: Date?)] = [:]
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
        let task: Task<[Key: Value], any Error>
        if var batch = open[group], batch.keys.count < maxBatch || batch.keys.contains(key) {
            if !batch.keys.contains(key) { batch.keys.append(key) }
            // The call must outlive every reader's deadline; a reader without one lets it wait for the client's own.
            if let deadline {
                batch.deadline = max(batch.deadline ?? deadline, deadline)
            } else {
                batch.hasNoDeadline = true
            }
            open[group] = batch
            task = batch.task
        } else {
            if let full = open[group] {
                // Full: it keeps its readers and goes out on its own timer; new readers start the next.
                sealed[full.id] = (full.keys, full.hasNoDeadline ? nil : full.deadline)
            }
            let id = nextId
            nextId += 1
            let window = self.window, fetch = self.fetch
            task = Task {
                try? await Task.sleep(for: window)
                let (keys, deadline) = self.seal(group, id: id)   // the task runs on this actor
                return try await fetch(group, keys, deadline)
            }
            open[group] = OpenBatch(id: id, keys: [key], deadline: deadline, hasNoDeadline: deadline == nil, task: task)
        }
        return try await task.value[key]
    }

    /// Closes the batch to new readers (its call is about to go out) and hands over its keys.
    private func seal(_ group: Group, id: Int) -> ([Key], Date?) {
        guard let batch = open[group], batch.id == id else {
            // Already replaced by a newer batch when this one filled up.
            return sealed.removeValue(forKey: id).map { ($0.keys, $0.deadline) } ?? ([], nil)
        }
        open[group] = nil
        return (batch.keys, batch.hasNoDeadline ? nil : batch.deadline)
    }
}
