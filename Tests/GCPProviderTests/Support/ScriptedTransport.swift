import DRCore
import Foundation

/// An `HTTPTransport` that answers from a script and records every request (for tests that need
/// exact wire forms or faults at exact attempts; the stand-in covers the real-server side).
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [HTTPRequest] = []
    private let respond: @Sendable (HTTPRequest, Int) throws -> HTTPResponse

    /// `respond(request, n)`: n counts requests to the same URL path (without query), from 1.
    init(_ respond: @escaping @Sendable (HTTPRequest, Int) throws -> HTTPResponse) {
        self.respond = respond
    }

    var requests: [HTTPRequest] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    func requests(to pathSuffix: String) -> [HTTPRequest] {
        requests.filter { Self.path($0.url).hasSuffix(pathSuffix) }
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let path = Self.path(request.url)
        let count = lock.withLock {
            recorded.append(request)
            return recorded.filter { Self.path($0.url) == path }.count
        }
        return try respond(request, count)
    }

    static func path(_ url: String) -> String {
        String(url.split(separator: "?", maxSplits: 1).first ?? "")
    }

    static func json(_ status: Int, _ object: [String: Any], headers: HTTPHeaders = [:]) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers, body: Array((try? JSONSerialization.data(withJSONObject: object)) ?? Data()))
    }

    static func token(_ value: String = "ya29.test-token", expiresIn: Int = 3599) -> HTTPResponse {
        json(200, ["access_token": value, "expires_in": expiresIn, "token_type": "Bearer"])
    }

    static func googleError(_ code: Int, _ status: String, _ message: String, reason: String? = nil) -> HTTPResponse {
        var error: [String: Any] = ["code": code, "status": status, "message": message]
        if let reason { error["details"] = [["@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason]] }
        return json(code, ["error": error])
    }
}

/// A clock tests move by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }

    var now: Date {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    func advance(_ seconds: TimeInterval) {
        lock.lock()
        current.addTimeInterval(seconds)
        lock.unlock()
    }
}

/// A directory for one test's files, removed at the end.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-gcp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }
}
