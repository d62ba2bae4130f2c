import Foundation

/// Opens once (a process exited, a pipe reached its end); waiters before and after the opening all
/// proceed. A wait ends when it opens (or a time passes), whatever happens to the waiting task:
/// a task that stopped a process must still see it gone. No wait blocks a thread.
final class OneTimeSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var opened = false
    private var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
    private var nextId: UInt64 = 0

    var isOpen: Bool { lock.withLock { opened } }

    func open() {
        let pending = lock.withLock { () -> [CheckedContinuation<Bool, Never>] in
            opened = true
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
        pending.forEach { $0.resume(returning: true) }
    }

    func wait() async {
        _ = await register(timeout: nil)
    }

    func wait(seconds: Double) async -> Bool {
        await register(timeout: seconds)
    }

    private func register(timeout: Double?) async -> Bool {
        await withCheckedContinuation { continuation in
            let id: UInt64? = lock.withLock {
                if opened { return nil }
                defer { nextId += 1 }
                waiters[nextId] = continuation
                return nextId
            }
            guard let id else {
                continuation.resume(returning: isOpen)
                return
            }
            if let timeout {
                DispatchQueue.global().asyncAfter(deadline: .now() + max(0, timeout)) { self.release(id, opened: false) }
            }
        }
    }

    private func release(_ id: UInt64, opened: Bool) {
        let waiter = lock.withLock { waiters.removeValue(forKey: id) }
        waiter?.resume(returning: opened)
    }
}
