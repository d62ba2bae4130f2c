import DRCore
import Foundation
import Testing

@Suite("CurlTransport failures map to typed TransportError kinds")
struct CurlTransportFailureTests {
    @Test("a response that never comes ends with .timeout at the total timeout")
    func hangTimesOut() async throws {
        try await HTTPFixture.with { fixture in
            let transport = makeTestTransport(total: .seconds(1))
            let error = await transportError { try await transport.send(HTTPRequest(method: "GET", url: fixture.baseURL + "/hang")) }
            #expect(error?.kind == .timeout, "\(String(describing: error))")
            #expect(error?.isRetryable == true)
        }
    }

    @Test("a timeout on a reused connection is .timeout, not .connectTimeout")
    func hangOnReusedConnectionTimesOut() async throws {
        try await HTTPFixture.with { fixture in
            let transport = makeTestTransport()
            _ = try await transport.send(HTTPRequest(method: "GET", url: fixture.baseURL + "/echo"))
            for _ in 0..<3 {
                let error = await transportError {
                    try await transport.send(HTTPRequest(method: "GET", url: fixture.baseURL + "/hang",
                                                         timeouts: HTTPTimeouts(connect: .seconds(5), total: .milliseconds(300))))
                }
                #expect(error?.kind == .timeout, "\(String(describing: error))")
                // Warm the cache again: the timed-out connection is closed.
                _ = try await transport.send(HTTPRequest(method: "GET", url: fixture.baseURL + "/echo"))
            }
        }
    }

    @Test("a closed port gives .connect")
    func refusedConnection() async throws {
        let fixture = try await HTTPFixture.start()
        let closedURL = fixture.baseURL + "/echo"
        await fixture.stop()   // waits for exit: nothing listens on the port any more
        let error = await transportError { try await makeTestTransport().send(HTTPRequest(method: "GET", url: closedURL)) }
        #expect(error?.kind == .connect, "\(String(describing: error))")
    }

    @Test("an unresolvable host gives .resolve")
    func unresolvableHost() async throws {
        let error = await transportError {
            try await makeTestTransport().send(HTTPRequest(method: "GET", url: "http://nonexistent.invalid/echo"))
        }
        #expect(error?.kind == .resolve, "\(String(describing: error))")
        #expect(error?.target == "http://nonexistent.invalid/echo")
    }

    @Test("a connection reset before the response gives .reset")
    func connectionReset() async throws {
        try await HTTPFixture.with { fixture in
            let error = await transportError { try await makeTestTransport().send(HTTPRequest(method: "GET", url: fixture.baseURL + "/reset")) }
            #expect(error?.kind == .reset, "\(String(describing: error))")
        }
    }

    @Test("a body over maximumResponseBytes gives .responseTooLarge, with or without Content-Length",
          arguments: ["", "&chunked=1"])
    func responseTooLarge(encoding: String) async throws {
        try await HTTPFixture.with { fixture in
            let transport = makeTestTransport(maximumResponseBytes: 100_000)
            let error = await transportError {
                try await transport.send(HTTPRequest(method: "GET", url: fixture.baseURL + "/big?bytes=1000000" + encoding))
            }
            #expect(error?.kind == .responseTooLarge, "\(String(describing: error))")
            #expect(error?.isRetryable == false)
            // Exactly at the limit is allowed.
            let atLimit = try await transport.send(HTTPRequest(method: "GET", url: fixture.baseURL + "/big?bytes=100000" + encoding))
            #expect(atLimit.body.count == 100_000)
        }
    }

    @Test("cancelling the task of a request in flight ends it promptly with .cancelled")
    func cancellationInFlight() async throws {
        try await HTTPFixture.with { fixture in
            // A 30 s total timeout: without cancellation the task would end with .timeout instead.
            let transport = makeTestTransport(total: .seconds(30))
            let task = Task { try await transport.send(HTTPRequest(method: "GET", url: fixture.baseURL + "/hang")) }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            let error = await transportError { try await task.value }
            #expect(error?.kind == .cancelled, "\(String(describing: error))")
            // The transport keeps working after a cancellation.
            let next = try await transport.send(HTTPRequest(method: "GET", url: fixture.baseURL + "/echo"))
            #expect(next.status == 200)
        }
    }

    @Test("a task cancelled before it sends gets .cancelled, not a request left running")
    func cancellationBeforeSubmission() async throws {
        try await HTTPFixture.with { fixture in
            let transport = makeTestTransport(total: .seconds(3))
            // The cancel handler runs before the request reaches the curl thread; repeat to hit the
            // interleavings of that handler with the loop picking up the submission.
            for _ in 0..<20 {
                let task = Task {
                    withUnsafeCurrentTask { $0?.cancel() }
                    return try await transport.send(HTTPRequest(method: "GET", url: fixture.baseURL + "/hang"))
                }
                let error = await transportError { try await task.value }
                #expect(error?.kind == .cancelled, "\(String(describing: error))")
            }
        }
    }
}

@Suite("CurlTransport over TLS (verification always on)")
struct CurlTransportTLSTests {
    @Test("a self-signed certificate is rejected with .tls, and accepted when given as caBundlePath")
    func selfSignedCertificate() async throws {
        try await TemporaryDirectory.with { directory in
            try await runToolChecked(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                                "-keyout", directory.path("key.pem"), "-out", directory.path("cert.pem"),
                                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
            try await HTTPFixture.with(["--tls", directory.path("cert.pem"), directory.path("key.pem")]) { fixture in
                let untrusting = makeTestTransport()
                let error = await transportError {
                    try await untrusting.send(HTTPRequest(method: "GET", url: fixture.httpsBaseURL + "/echo"))
                }
                #expect(error?.kind == .tls, "\(String(describing: error))")

                let trusting = makeTestTransport(caBundlePath: directory.path("cert.pem"))
                let response = try await trusting.send(HTTPRequest(method: "POST", url: fixture.httpsBaseURL + "/echo", body: [1, 2, 3]))
                #expect(response.status == 200)
                #expect(try EchoedRequest(response).body == [1, 2, 3])
            }
        }
    }
}
