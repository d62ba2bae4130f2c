import DRCore
import Foundation
import Testing

@Suite("CurlTransport round trips against http_fixture.py")
struct CurlTransportRoundTripTests {
    /// Every byte value, so a text conversion anywhere on the way would show.
    static let binaryBody: [UInt8] = (0..<1024).map { UInt8($0 % 256) }

    @Test("GET, POST, PUT and DELETE arrive with their method, path, headers and body unchanged",
          arguments: ["GET", "POST", "PUT", "DELETE"])
    func methodRoundTrip(method: String) async throws {
        try await HTTPFixture.with { fixture in
            let transport = makeTestTransport()
            let body = method == "GET" ? [] : Self.binaryBody
            let headers = HTTPHeaders([("X-Request-Id", "abc 123"), ("x-amz-date", "20150830T123600Z"),
                                       ("X-Repeated", "one"), ("X-Repeated", "two")])
            let response = try await transport.send(HTTPRequest(
                method: method, url: fixture.baseURL + "/echo/a/../b//c%2Fd?b=2&a=1", headers: headers, body: body))
            #expect(response.status == 200)
            let echoed = try EchoedRequest(response)
            #expect(echoed.method == method)
            // PATH_AS_IS: the path goes out exactly as given (as SigV4 signed it), "/../" and "//" included.
            #expect(echoed.path == "/echo/a/../b//c%2Fd?b=2&a=1")
            #expect(echoed.body == body)
            #expect(echoed.values(for: "X-Request-Id") == ["abc 123"])
            #expect(echoed.values(for: "x-amz-date") == ["20150830T123600Z"])
            #expect(echoed.values(for: "X-Repeated") == ["one", "two"])
        }
    }

    @Test("a header with an empty value is sent as 'Name:' with nothing after it")
    func emptyHeaderValue() async throws {
        try await HTTPFixture.with { fixture in
            let response = try await makeTestTransport().send(HTTPRequest(
                method: "GET", url: fixture.baseURL + "/echo", headers: HTTPHeaders([("X-Empty", ""), ("X-After", "v")])))
            let echoed = try EchoedRequest(response)
            #expect(echoed.values(for: "X-Empty") == [""])
            #expect(echoed.values(for: "X-After") == ["v"])
        }
    }

    @Test("curl adds no Content-Type, Accept or Expect of its own, even to a 2 MiB PUT")
    func noHeadersTheCallerDidNotChoose() async throws {
        try await HTTPFixture.with { fixture in
            let transport = makeTestTransport()
            let large = [UInt8](repeating: 0x41, count: 2 << 20)
            for (method, body) in [("GET", [UInt8]()), ("POST", Self.binaryBody), ("PUT", large)] {
                let response = try await transport.send(HTTPRequest(method: method, url: fixture.baseURL + "/echo", body: body))
                let echoed = try EchoedRequest(response)
                #expect(!echoed.headerNames.contains("content-type"), "\(method): \(echoed.headers)")
                #expect(!echoed.headerNames.contains("accept"), "\(method): \(echoed.headers)")
                #expect(!echoed.headerNames.contains("expect"), "\(method): \(echoed.headers)")
                #expect(echoed.body.count == body.count)
            }
        }
    }

    @Test("a Content-Type and Accept the caller sets are sent once, as given")
    func callerChosenContentTypeIsKept() async throws {
        try await HTTPFixture.with { fixture in
            let response = try await makeTestTransport().send(HTTPRequest(
                method: "POST", url: fixture.baseURL + "/echo",
                headers: HTTPHeaders([("Content-Type", "application/x-amz-json-1.1"), ("Accept", "application/json")]),
                body: Array("{}".utf8)))
            let echoed = try EchoedRequest(response)
            #expect(echoed.values(for: "Content-Type") == ["application/x-amz-json-1.1"])
            #expect(echoed.values(for: "Accept") == ["application/json"])
        }
    }

    @Test("HEAD returns the status and headers without a body, and the connection stays usable")
    func headRequest() async throws {
        try await HTTPFixture.with { fixture in
            let transport = makeTestTransport()
            let head = try await transport.send(HTTPRequest(method: "HEAD", url: fixture.baseURL + "/echo"))
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(Int(head.headers["content-length"] ?? "") ?? 0 > 0)
            #expect(head.headers["Content-Type"] == "application/json")
            let next = try await transport.send(HTTPRequest(method: "GET", url: fixture.baseURL + "/echo"))
            #expect(try EchoedRequest(next).method == "GET")
            #expect(next.newConnections == 0)
        }
    }

    @Test("an HTTP error status is a response, not a transport error")
    func errorStatusIsAResponse() async throws {
        try await HTTPFixture.with { fixture in
            let response = try await makeTestTransport().send(HTTPRequest(method: "GET", url: fixture.baseURL + "/status?code=503"))
            #expect(response.status == 503)
        }
    }

    @Test("sequential requests reuse one kept-alive connection")
    func keepAlive() async throws {
        try await HTTPFixture.with { fixture in
            let transport = makeTestTransport()
            let first = try await transport.send(HTTPRequest(method: "GET", url: fixture.baseURL + "/echo"))
            #expect(first.newConnections == 1)
            for method in ["POST", "GET", "PUT", "DELETE"] {
                let response = try await transport.send(HTTPRequest(method: method, url: fixture.baseURL + "/echo", body: method == "GET" ? [] : [1, 2, 3]))
                #expect(response.newConnections == 0, "\(method) opened a new connection")
            }
            let count = try await transport.send(HTTPRequest(method: "GET", url: fixture.baseURL + "/connections"))
            #expect(count.newConnections == 0)
            #expect(count.bodyText.contains("\"connections\": 1}"), "\(count.bodyText)")
        }
    }

    @Test("64 requests are in flight at once on the one curl thread")
    func sixtyFourConcurrentRequests() async throws {
        try await HTTPFixture.with { fixture in
            let transport = makeTestTransport(total: .seconds(20))
            // The barrier answers only once all 64 are inside the server at the same time.
            let url = fixture.baseURL + "/barrier?n=64&timeout=10"
            let statuses = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for _ in 0..<64 {
                    group.addTask {
                        let response = try await transport.send(HTTPRequest(method: "GET", url: url))
                        return (response.status, response.bodyText)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.count == 64)
            #expect(statuses.allSatisfy { $0.0 == 200 }, "\(statuses.filter { $0.0 != 200 })")
            #expect(statuses.allSatisfy { $0.1 == "{\"concurrency\": 64}" })
        }
    }
}
