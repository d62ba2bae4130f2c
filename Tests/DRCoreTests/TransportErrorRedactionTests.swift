import DRCore
import Testing

@Suite("TransportError and RedactedURL keep secrets out of messages")
struct TransportErrorRedactionTests {
    static let secrets = ["AKIDEXAMPLE", "wJalrXUtnFEMI", "X-Amz-Security-Token", "FQoGZXIvYXdzE", "X-Amz-Signature", "frag"]

    @Test("user info, query and fragment are dropped; scheme, host, port and path stay", arguments: [
        ("https://AKIDEXAMPLE:wJalrXUtnFEMI@bucket.s3.amazonaws.com:443/key/a%20b?X-Amz-Security-Token=FQoGZXIvYXdzE&X-Amz-Signature=abc",
         "https://bucket.s3.amazonaws.com:443/key/a%20b"),
        ("https://bucket.s3.amazonaws.com/key?X-Amz-Security-Token=FQoGZXIvYXdzE#frag", "https://bucket.s3.amazonaws.com/key"),
        ("http://AKIDEXAMPLE@proxy:3128", "http://proxy:3128"),
        ("https://host/path#frag", "https://host/path"),
        ("https://host/user@example.com/object", "https://host/user@example.com/object"),
        ("https://host/p?email=AKIDEXAMPLE:wJalrXUtnFEMI@x", "https://host/p"),
        // Unencoded '?', '#' or '@' in a password (as people write them in HTTPS_PROXY).
        ("http://AKIDEXAMPLE:wJalr?XUtnFEMI@proxy:3128/", "http://proxy:3128/"),
        ("http://AKIDEXAMPLE:wJalr#XUtnFEMI@proxy:3128", "http://proxy:3128"),
        ("http://AKIDEXAMPLE:wJalr@XUtnFEMI@proxy:3128/x", "http://proxy:3128/x"),
    ])
    func redactedURL(url: String, expected: String) {
        let described = RedactedURL.describe(url)
        #expect(described == expected)
        for secret in Self.secrets { #expect(!described.contains(secret)) }
    }

    @Test("TransportError.description names the host and path and no secret")
    func descriptionIsSafeToLog() {
        let url = "https://AKIDEXAMPLE:wJalrXUtnFEMI@bucket.s3.amazonaws.com/key?X-Amz-Security-Token=FQoGZXIvYXdzE"
        let error = TransportError(kind: .timeout, url: url, detail: "Operation timed out after 1000 milliseconds")
        #expect(error.description == "timed out: https://bucket.s3.amazonaws.com/key (Operation timed out after 1000 milliseconds)")
        for secret in Self.secrets { #expect(!error.description.contains(secret)) }
        #expect(!error.description.contains("@"))
        #expect(!error.description.contains("?"))
    }

    @Test("URLs quoted inside library messages are scrubbed")
    func scrubFreeText() {
        let text = RedactedURL.scrub("Could not connect to proxy 'http://AKIDEXAMPLE:wJalrXUtnFEMI@proxy:3128/?X-Amz-Security-Token=FQoGZXIvYXdzE' now")
        #expect(text.contains("proxy:3128"))
        #expect(text.hasPrefix("Could not connect to proxy"))
        for secret in Self.secrets { #expect(!text.contains(secret)) }
        #expect(RedactedURL.scrub("no URL here: a@b?c") == "no URL here: a@b?c")
    }
}
