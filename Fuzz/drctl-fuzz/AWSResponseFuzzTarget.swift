@testable import AWSProvider
import DRCore
import Foundation

/// AWS responses as the shared client reads them. The input is a small HTTP response in text —
/// a status line, `name: value` header lines, a blank line, the body — decoded the way every
/// protocol decodes errors, and for a 2xx the way the Query and REST-XML services read results.
/// Invariants: an error always gets a code; `Retry-After` becomes a finite, non-negative delay or
/// nothing; an error's description never carries a header it was not meant to (only the request id).
enum AWSResponseFuzzTarget {
    static let services: [AWSServiceDescriptor] = [.rds, .sts, .s3, .route53, .secretsManager, .eks]

    static let target = FuzzTarget(name: "aws-response") { bytes in
        let response = httpResponse(bytes)
        for service in services {
            let error = AWSResponseDecoding.error(from: response, service: service, operation: "Fuzz", region: "us-east-1")
            require(!error.code.isEmpty, "an error without a code")
            if let delay = error.retryAfter {
                require(delay.isFinite && delay >= 0, "Retry-After '\(response.headers["retry-after"] ?? "")' read as \(delay) s")
                let backoff = RetryStrategy().backoff(afterAttempt: 1, random: 0.5, retryAfter: delay)
                require(backoff.isFinite && backoff >= 0, "backoff \(backoff)")
            }
            _ = error.category
            _ = error.description
        }
        _ = ClockSkew().adjust(serverDate: response.headers["date"], localNow: Date(timeIntervalSince1970: 1_700_000_000))

        guard (200..<300).contains(response.status), let result = try? QueryProtocol.result(of: response, action: "DescribeDBInstances") else { return }
        _ = result.list("DBInstances", member: "DBInstance").map(DBInstance.init(xml:)).map(\.endpoint)
        _ = result.list("DBSnapshots", member: "DBSnapshot").map(DBSnapshot.init(xml:))
        _ = result.list("ResourceRecordSets", member: "ResourceRecordSet").map(Route53RecordSet.init(xml:))
        _ = result.child("ChangeInfo").map(Route53ChangeInfo.init(xml:))
        _ = S3ReplicationConfiguration(xml: result)
    }

    /// `"503\nRetry-After: 2\n\n<Error>…"`; a first line that is not a status means 400 and a bare body.
    static func httpResponse(_ bytes: [UInt8]) -> HTTPResponse {
        let whole = text(bytes)
        guard let firstBreak = whole.firstIndex(of: "\n"), let status = Int(whole[..<firstBreak]), (100..<600).contains(status) else {
            return HTTPResponse(status: 400, body: bytes)
        }
        var headers = HTTPHeaders()
        var rest = whole[whole.index(after: firstBreak)...]
        while let end = rest.firstIndex(of: "\n") {
            let line = rest[..<end]
            rest = rest[rest.index(after: end)...]
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " }))
        }
        return HTTPResponse(status: status, headers: headers, body: Array(rest.utf8))
    }
}
