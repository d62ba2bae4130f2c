import CSQLite
import Foundation
import Synchronization

/// Makes SQLite's own unix VFS fail writes to chosen files with EIO, through the hook SQLite
/// provides for exactly this (`xSetSystemCall`, https://www.sqlite.org/c3ref/vfs.html): the error
/// then travels the real path — VFS, pager, SQLITE_IOERR_WRITE, rollback — as a failing disk's
/// would. Only files registered with `failWrites` are affected; everything else passes through.
enum SQLiteFaultInjection {
    /// The next `count` writes to any file whose path starts with `pathPrefix` (the database and its
    /// -wal/-shm) fail with EIO.
    static func failWrites(to pathPrefix: String, count: Int) {
        installOnce()
        let resolved = URL(fileURLWithPath: pathPrefix).resolvingSymlinksInPath().path
        faults.withLock { $0[resolved] = count }
    }

    /// Failures still to come for `pathPrefix`.
    static func remaining(_ pathPrefix: String) -> Int {
        faults.withLock { $0[URL(fileURLWithPath: pathPrefix).resolvingSymlinksInPath().path] ?? 0 }
    }

    static func clear(_ pathPrefix: String) {
        faults.withLock { _ = $0.removeValue(forKey: URL(fileURLWithPath: pathPrefix).resolvingSymlinksInPath().path) }
    }

    // MARK: Plumbing

    fileprivate static let faults = Mutex<[String: Int]>([:])

    private static let installation: Void = {
        guard let vfs = sqlite3_vfs_find(nil), let set = vfs.pointee.xSetSystemCall, let get = vfs.pointee.xGetSystemCall else {
            fatalError("SQLite's default VFS has no system-call hooks")
        }
        originalWrite = get(vfs, "write").map { unsafeBitCast($0, to: WriteCall.self) }
        originalPwrite = get(vfs, "pwrite").map { unsafeBitCast($0, to: PwriteCall.self) }
        originalPwrite64 = get(vfs, "pwrite64").map { unsafeBitCast($0, to: PwriteCall.self) }
        // Which of the three a build uses depends on its compile options (an unused one is NULL):
        // replace each one that is there.
        if originalWrite != nil { _ = set(vfs, "write", unsafeBitCast(faultyWrite, to: sqlite3_syscall_ptr.self)) }
        if originalPwrite != nil { _ = set(vfs, "pwrite", unsafeBitCast(faultyPwrite, to: sqlite3_syscall_ptr.self)) }
        if originalPwrite64 != nil { _ = set(vfs, "pwrite64", unsafeBitCast(faultyPwrite64, to: sqlite3_syscall_ptr.self)) }
    }()

    private static func installOnce() { _ = installation }

    /// True (and one failure used up) when `fd` is a registered file with failures left.
    fileprivate static func shouldFail(_ fd: Int32) -> Bool {
        guard !faults.withLock({ $0.isEmpty }) else { return false }
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
        guard length > 0 else { return false }
        let path = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return faults.withLock { faults in
            guard let key = faults.keys.first(where: { path.hasPrefix($0) }), let left = faults[key], left > 0 else { return false }
            faults[key] = left - 1
            return true
        }
    }
}

private typealias WriteCall = @convention(c) (Int32, UnsafeRawPointer?, Int) -> Int
private typealias PwriteCall = @convention(c) (Int32, UnsafeRawPointer?, Int, Int) -> Int

nonisolated(unsafe) private var originalWrite: WriteCall?
nonisolated(unsafe) private var originalPwrite: PwriteCall?
nonisolated(unsafe) private var originalPwrite64: PwriteCall?

private let faultyWrite: WriteCall = { fd, buffer, count in
    if SQLiteFaultInjection.shouldFail(fd) { errno = EIO; return -1 }
    return originalWrite!(fd, buffer, count)
}

private let faultyPwrite: PwriteCall = { fd, buffer, count, offset in
    if SQLiteFaultInjection.shouldFail(fd) { errno = EIO; return -1 }
    return originalPwrite!(fd, buffer, count, offset)
}

private let faultyPwrite64: PwriteCall = { fd, buffer, count, offset in
    if SQLiteFaultInjection.shouldFail(fd) { errno = EIO; return -1 }
    return originalPwrite64!(fd, buffer, count, offset)
}
