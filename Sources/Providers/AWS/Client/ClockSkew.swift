import Foundation

/// The offset between this machine's clock and AWS's, learned from a skew error's `Date` header
/// and applied to every later signature (as the SDKs do on `RequestTimeTooSkewed` & co.).
public final class ClockSkew: @unchecked Sendable {
    /// AWS rejects signatures more than 5 minutes off; correct anything over 4.
    static let threshold: TimeInterval = 240
    private let lock = NSLock()
    private var offset: TimeInterval = 0

    public init() {}

    public var current: TimeInterval {
        lock.lock()
        defer { lock.unlock() }
        return offset
    }

    /// Records the server's time if it is far from ours; returns true when the offset changed
    /// (so the request is worth signing again).
    func adjust(serverDate header: String?, localNow: Date) -> Bool {
        guard let header, let serverDate = Self.parseHTTPDate(header) else { return false }
        let skew = serverDate.timeIntervalSince(localNow)
        lock.lock()
        defer { lock.unlock() }
        guard abs(skew - offset) > Self.threshold else { return false }
        offset = skew
        return true
    }

    /// RFC 7231 IMF-fixdate, e.g. "Tue, 15 Nov 1994 08:12:31 GMT"; ISO 8601 as a fallback.
    static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        if let date = formatter.date(from: text) { return date }
        return ISO8601DateFormatter().date(from: text)
    }
}
