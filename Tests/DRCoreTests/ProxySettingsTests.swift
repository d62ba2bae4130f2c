import DRCore
import Testing

@Suite("ProxySettings rules")
struct ProxySettingsTests {
    static let proxy = "http://proxy.corp:3128"

    @Test("https URLs use the https proxy and http URLs the http proxy")
    func schemeSelectsProxy() {
        let settings = ProxySettings(httpsProxy: "http://secure:1", httpProxy: "http://plain:2")
        #expect(settings.proxy(for: "https://s3.amazonaws.com/bucket") == "http://secure:1")
        #expect(settings.proxy(for: "HTTPS://S3.AMAZONAWS.COM/bucket") == "http://secure:1")
        #expect(settings.proxy(for: "http://169.254.169.254/latest") == "http://plain:2")
        #expect(ProxySettings(httpsProxy: "http://secure:1").proxy(for: "http://plain.example/") == nil)
        #expect(ProxySettings(httpProxy: "http://plain:2").proxy(for: "https://secure.example/") == nil)
    }

    @Test("NO_PROXY matches a host exactly or as a domain suffix at a dot boundary", arguments: [
        ("example.com", "https://example.com/", true),
        ("example.com", "https://s3.example.com/", true),
        ("example.com", "https://badexample.com/", false),
        ("example.com", "https://example.com.evil.net/", false),
        (".example.com", "https://s3.example.com/", true),
        (".example.com", "https://example.com/", true),
        ("*.example.com", "https://a.b.example.com/", true),
        ("*", "https://anything.at.all/", true),
        ("other.org, example.com", "https://api.example.com/", true),
        ("  EXAMPLE.com  ", "https://Api.Example.COM/", true),
        ("169.254.169.254", "https://169.254.169.254/latest/meta-data", true),
        ("169.254.169.254", "https://169.254.169.2/", false),
        ("example.com:8443", "https://example.com:8443/", true),
        ("example.com:8443", "https://example.com/", true),
        ("example.com", "https://example.com:9000/x", true),
        ("example.com", "https://user:pw@example.com/", true),
        ("[::1]", "https://[::1]:8080/", true),
        ("[::1]:8080", "https://[::1]/", true),
        ("[::1]", "https://[::2]/", false),
        ("::1", "https://[::1]/", true),
        ("", "https://example.com/", false),
        (",,", "https://example.com/", false),
    ])
    func noProxyRules(noProxy: String, url: String, bypassed: Bool) {
        let settings = ProxySettings(httpsProxy: Self.proxy, noProxy: noProxy)
        #expect(settings.proxy(for: url) == (bypassed ? nil : Self.proxy))
    }

    @Test("upper- and lower-case environment names are both read; empty values are ignored")
    func environmentNames() {
        let upper = ProxySettings(environment: ["HTTPS_PROXY": "http://a:1", "HTTP_PROXY": "http://b:2", "NO_PROXY": "x.org"])
        #expect(upper == ProxySettings(httpsProxy: "http://a:1", httpProxy: "http://b:2", noProxy: "x.org"))
        let lower = ProxySettings(environment: ["https_proxy": "http://a:1", "http_proxy": "http://b:2", "no_proxy": "x.org"])
        #expect(lower == ProxySettings(httpsProxy: "http://a:1", httpProxy: "http://b:2", noProxy: "x.org"))
        let emptyUpper = ProxySettings(environment: ["HTTPS_PROXY": "", "https_proxy": "http://a:1"])
        #expect(emptyUpper.httpsProxy == "http://a:1")
        #expect(ProxySettings(environment: [:]) == ProxySettings())
        #expect(ProxySettings(environment: ["ALL_PROXY": "http://c:3"]).proxy(for: "https://x.org/") == nil)
    }
}

@Suite("CurlTransport through a forward proxy")
struct CurlTransportProxyTests {
    @Test("an http request goes through the configured proxy, even though the environment's no_proxy lists 127.0.0.1")
    func requestGoesThroughProxy() async throws {
        try await HTTPFixture.with(["--proxy"]) { proxy in
            let transport = makeTestTransport(proxy: ProxySettings(httpProxy: proxy.baseURL))
            // The target is never contacted: the proxy answers absolute-form requests itself.
            let target = "http://127.0.0.1:9/echo?x=1"
            let response = try await transport.send(HTTPRequest(method: "POST", url: target, body: [7]))
            #expect(response.headers["X-Fixture-Proxied"] == "yes")
            let echoed = try EchoedRequest(response)
            #expect(echoed.path == target)
            #expect(echoed.body == [7])
        }
    }

    @Test("a host listed in noProxy is reached directly")
    func noProxyGoesDirect() async throws {
        try await HTTPFixture.with(["--proxy"]) { server in
            let transport = makeTestTransport(proxy: ProxySettings(httpProxy: server.baseURL, noProxy: "127.0.0.1"))
            let response = try await transport.send(HTTPRequest(method: "GET", url: server.baseURL + "/echo"))
            #expect(response.headers["X-Fixture-Proxied"] == nil)
            #expect(try EchoedRequest(response).path == "/echo")
        }
    }

    @Test("a proxy that cannot be reached fails without showing the proxy's password")
    func unreachableProxyKeepsPasswordOut() async throws {
        let closed = try await HTTPFixture.start()
        await closed.stop()
        let transport = makeTestTransport(proxy: ProxySettings(httpProxy: "http://proxyuser:s3cr3t@127.0.0.1:\(closed.port)"))
        let error = await transportError {
            try await transport.send(HTTPRequest(method: "GET", url: "http://example.invalid/x?X-Amz-Security-Token=tok"))
        }
        let text = String(describing: error)
        #expect(error != nil)
        #expect(!text.contains("s3cr3t"))
        #expect(!text.contains("proxyuser"))
        #expect(!text.contains("X-Amz-Security-Token"))
    }
}
