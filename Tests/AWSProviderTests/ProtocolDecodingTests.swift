import DRCore
import Foundation
import Testing
@testable import AWSProvider

/// Error shapes of the four protocols, the XML reader, query encoding and clock-skew correction,
/// without a network.
struct ProtocolDecodingTests {
    @Test func queryErrorShapeIsDecoded() {
        let body = """
        <ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type>\
        <Code>DBInstanceNotFound</Code><Message>DBInstance db-1 not found.</Message></Error>\
        <RequestId>5e8f-11</RequestId></ErrorResponse>
        """
        let error = AWSResponseDecoding.error(from: HTTPResponse(status: 404, body: Array(body.utf8)), service: .rds,
                                              operation: "DescribeDBInstances", region: "us-west-2")
        #expect(error.code == "DBInstanceNotFound")
        #expect(error.message == "DBInstance db-1 not found.")
        #expect(error.requestId == "5e8f-11")
        #expect(error.category == .notFound)
        #expect(error.description == "RDS DescribeDBInstances in us-west-2 failed: DBInstanceNotFound: DBInstance db-1 not found. (HTTP 404, request id 5e8f-11)")
    }

    @Test func jsonNotFoundExceptionsAnsweredWith400AreNotFound() {
        // Secrets Manager and KMS say "not found" with HTTP 400 (moto answers 404).
        let body = #"{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}"#
        let error = AWSResponseDecoding.error(from: HTTPResponse(status: 400, body: Array(body.utf8)), service: .secretsManager,
                                              operation: "DescribeSecret", region: "us-west-2")
        #expect(error.code == "ResourceNotFoundException")
        #expect(error.category == .notFound)
        #expect(AWSErrorCategory(code: "NotFoundException", httpStatus: 400) == .notFound)
        #expect(AWSErrorCategory(code: "ValidationException", httpStatus: 400) == .validation)
    }

    @Test func s3ErrorShapeAndBodilessHeadAreDecoded() {
        let body = "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message><RequestId>R1</RequestId></Error>"
        let slow = AWSResponseDecoding.error(from: HTTPResponse(status: 503, body: Array(body.utf8)), service: .s3, operation: "PutObject", region: "us-east-1")
        #expect(slow.code == "SlowDown")
        #expect(slow.category == .throttling)
        #expect(slow.requestId == "R1")
        let head = AWSResponseDecoding.error(from: HTTPResponse(status: 404, headers: ["x-amz-request-id": "R2"]), service: .s3,
                                             operation: "HeadObject", region: "us-east-1")
        #expect(head.code == "NotFound")
        #expect(head.requestId == "R2")
    }

    @Test func jsonErrorShapesAreDecoded() {
        let typed = AWSResponseDecoding.error(
            from: HTTPResponse(status: 400, headers: ["x-amzn-RequestId": "J1"],
                               body: Array(#"{"__type":"com.amazonaws.ecs#ClusterNotFoundException","message":"Cluster not found."}"#.utf8)),
            service: .ecs, operation: "UpdateService", region: "us-west-2")
        #expect(typed.code == "ClusterNotFoundException")
        #expect(typed.message == "Cluster not found.")
        #expect(typed.requestId == "J1")
        let header = AWSResponseDecoding.error(
            from: HTTPResponse(status: 429, headers: ["x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/"],
                               body: Array(#"{"Message":"Rate exceeded"}"#.utf8)),
            service: .eks, operation: "UpdateNodegroupConfig", region: "us-west-2")
        #expect(header.code == "ThrottlingException")
        #expect(header.message == "Rate exceeded")
        #expect(header.isRetryable)
    }

    @Test func htmlFiveHundredIsAGenericTransientError() {
        let error = AWSResponseDecoding.error(from: HTTPResponse(status: 500, body: Array("<!DOCTYPE html><html><body>boom".utf8)),
                                              service: .rds, operation: "FailoverGlobalCluster", region: "us-east-1")
        #expect(error.code == "InternalError")
        #expect(error.category == .transient)
    }

    @Test func xmlParserHandlesEntitiesCDATANamespacesAndRejectsGarbage() throws {
        let node = try XMLDocumentParser.parse("""
        <?xml version="1.0" encoding="UTF-8"?>
        <!-- comment --><a:Root xmlns:a="urn:x"><a:Item k="v&amp;w">x &lt; y &#x263A; &#65;</a:Item><Data><![CDATA[<raw & text>]]></Data><Empty/></a:Root>
        """)
        #expect(node.name == "Root")
        #expect(node.child("Item")?.text == "x < y ☺ A")
        #expect(node.child("Item")?.attributes["k"] == "v&w")
        #expect(node.string("Data") == "<raw & text>")
        #expect(node.child("Empty")?.text == "")
        #expect(throws: XMLDocumentParser.ParseError.self) { try XMLDocumentParser.parse("<a><b></a>") }
        #expect(throws: XMLDocumentParser.ParseError.self) { try XMLDocumentParser.parse("<a>&bogus;</a>") }
        #expect(throws: XMLDocumentParser.ParseError.self) { try XMLDocumentParser.parse("<a></a>trailing") }
        let deep = String(repeating: "<x>", count: 300) + String(repeating: "</x>", count: 300)
        #expect(throws: XMLDocumentParser.ParseError.self) { try XMLDocumentParser.parse(deep) }
    }

    @Test func xmlWriterEscapesAndRoundTrips() throws {
        let node = XMLNode(name: "Change", attributes: ["xmlns": "urn:\"q\""], children: [.leaf("Value", "a<b & 'c'")])
        let text = XMLWriter.render(node)
        #expect(text == #"<Change xmlns="urn:&quot;q&quot;"><Value>a&lt;b &amp; 'c'</Value></Change>"#)
        #expect(try XMLDocumentParser.parse(text).string("Value") == "a<b & 'c'")
    }

    @Test func queryParametersFlattenListsAndEncodeStrictly() {
        var parameters = QueryParameters()
        parameters.set("DBInstanceIdentifier", "db 1+")
        parameters.setList("SecurityGroups", ["sg-1", "sg-2"])
        parameters.setStructures("Tags", [("env", "dr"), ("team", "sre")]) { params, prefix, tag in
            params.set("\(prefix).Key", tag.0)
            params.set("\(prefix).Value", tag.1)
        }
        let request = QueryProtocol.request(action: "CreateDBSnapshot", version: "2014-10-31", parameters: parameters)
        #expect(String(decoding: request.body, as: UTF8.self) ==
            "Action=CreateDBSnapshot&Version=2014-10-31&DBInstanceIdentifier=db%201%2B&SecurityGroups.member.1=sg-1&SecurityGroups.member.2=sg-2"
            + "&Tags.member.1.Key=env&Tags.member.1.Value=dr&Tags.member.2.Key=team&Tags.member.2.Value=sre")
        #expect(request.headers["content-type"] == "application/x-www-form-urlencoded; charset=utf-8")
    }

    @Test func s3ObjectPathsKeepSlashesAndEncodeEverythingElse() {
        #expect(S3Client.objectPath(bucket: "b", key: "a//b c+~%é") == "/b/a//b%20c%2B~%25%C3%A9")
        #expect(S3Client.objectPath(bucket: "b", key: "/lead") == "/b//lead")
    }

    @Test func jsonProtocolSetsTargetAndContentType() throws {
        let request = try JSONProtocol.request(operation: "DescribeServices", service: .ecs, input: ["cluster": "dr"])
        #expect(request.headers["x-amz-target"] == "AmazonEC2ContainerServiceV20141113.DescribeServices")
        #expect(request.headers["content-type"] == "application/x-amz-json-1.1")
        #expect(String(decoding: request.body, as: UTF8.self) == #"{"cluster":"dr"}"#)
    }

    @Test func backoffIsCappedJitteredAndHonoursRetryAfter() {
        let strategy = RetryStrategy()
        #expect(strategy.backoff(afterAttempt: 1, random: 0.5, retryAfter: nil) == 0.5)
        #expect(strategy.backoff(afterAttempt: 3, random: 1.0, retryAfter: nil) == 4.0)
        #expect(strategy.backoff(afterAttempt: 10, random: 1.0, retryAfter: nil) == 20.0)
        #expect(strategy.backoff(afterAttempt: 1, random: 0.1, retryAfter: 3) == 3)
        #expect(strategy.backoff(afterAttempt: 1, random: 0.1, retryAfter: 600) == 20)
    }

    @Test func clockSkewIsCorrectedFromTheServerDateAndTheRequestResigned() async throws {
        let transport = SkewedServer(serverOffset: 3600)
        let client = AWSClient(transport: transport,
                               credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "AKID", secretAccessKey: "secret")),
                               endpoints: StaticEndpointResolver(overrideURL: "https://sts.example.test"),
                               sleep: { _ in Issue.record("a skew correction must not back off") })
        let identity = try await STSClient(client: client).getCallerIdentity(region: "us-east-1")
        #expect(identity.account == "123456789012")
        let dates = await transport.signedDates
        #expect(dates.count == 2)
        let skew = dates[1].timeIntervalSince(dates[0])
        #expect(abs(skew - 3600) < 60)
        #expect(abs(client.clockSkew.current - 3600) < 60)
    }
}

/// Plays an AWS endpoint whose clock is `serverOffset` seconds ahead: it rejects signatures
/// dated more than 5 minutes from its own clock, as STS does.
actor SkewedServer: HTTPTransport {
    let serverOffset: TimeInterval
    private(set) var signedDates: [Date] = []

    init(serverOffset: TimeInterval) { self.serverOffset = serverOffset }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let signed = formatter.date(from: request.headers["x-amz-date"] ?? "") ?? .distantPast
        signedDates.append(signed)
        let serverNow = Date().addingTimeInterval(serverOffset)
        if abs(signed.timeIntervalSince(serverNow)) > 300 {
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            let body = "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>Signature expired</Message></Error><RequestId>x</RequestId></ErrorResponse>"
            return HTTPResponse(status: 403, headers: ["Date": formatter.string(from: serverNow)], body: Array(body.utf8))
        }
        let body = "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/x</Arn><UserId>AID</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"
        return HTTPResponse(status: 200, body: Array(body.utf8))
    }
}
