@testable import AWSProvider
import DRCore
import Testing

/// `Retry-After` is delta-seconds (RFC 9110 §10.2.3: one or more digits). The `aws-response` fuzz
/// target found that anything `Double` reads was taken: `inf`, `nan`, `-5`, `1e400`, `0x10`.
@Suite("Retry-After header decoding")
struct RetryAfterDecodingTests {
    static func retryAfter(_ header: String) -> Double? {
        AWSResponseDecoding.error(from: HTTPResponse(status: 503, headers: ["Retry-After": header], body: []),
                                  service: .s3, operation: "GetObject", region: "us-east-1").retryAfter
    }

    @Test("values that are not delta-seconds are ignored", arguments: ["inf", "nan", "-5", "1e400", "0x10", "1.5", "+3", " ", ""])
    func ignored(header: String) {
        #expect(Self.retryAfter(header) == nil)
    }

    @Test func deltaSecondsAreRead() {
        #expect(Self.retryAfter("2") == 2)
        #expect(Self.retryAfter(" 120 ") == 120)
    }

    @Test func hugeDelaysAreCappedNotInfinite() throws {
        let delay = try #require(Self.retryAfter(String(repeating: "9", count: 400)))
        #expect(delay.isFinite)
    }
}
