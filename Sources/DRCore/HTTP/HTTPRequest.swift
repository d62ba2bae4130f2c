import Foundation

/// One HTTP request as a value. `url` is absolute and already percent-encoded exactly as it must
/// go on the wire (SigV4 signs that exact form, so the transport never re-encodes it).
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Overrides the transport's default timeouts for this request.
    public var timeouts: HTTPTimeouts?

    public init(method: String, url: String, headers: HTTPHeaders = [:], body: [UInt8] = [], timeouts: HTTPTimeouts? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeouts = timeouts
    }
}

public struct HTTPTimeouts: Sendable, Equatable {
    /// Time allowed to resolve, connect and finish the TLS handshake.
    public var connect: Duration
    /// Time allowed for the whole exchange, connect included.
    public var total: Duration

    public init(connect: Duration = .seconds(10), total: Duration = .seconds(60)) {
        self.connect = connect
        self.total = total
    }

    /// Per-attempt timeouts that never run past a caller's deadline (a call's retries, the RTO budget).
    public static func bounded(_ timeouts: HTTPTimeouts?, by deadline: Date?, now: Date) -> HTTPTimeouts? {
        guard let deadline else { return timeouts }
        let remaining = max(0.001, deadline.timeIntervalSince(now))
        var result = timeouts ?? HTTPTimeouts()
        result.total = min(result.total, .seconds(saturating: remaining))
        result.connect = min(result.connect, result.total)
        return result
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Connections the transport had to open for this exchange: 0 means a kept-alive one was reused.
    public var newConnections: Int

    public init(status: Int, headers: HTTPHeaders = [:], body: [UInt8] = [], newConnections: Int = 0) {
        self.status = status
        self.headers = headers
        self.body = body
        self.newConnections = newConnections
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Sends HTTP requests. One real implementation (`CurlTransport`); tests may pass their own.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
