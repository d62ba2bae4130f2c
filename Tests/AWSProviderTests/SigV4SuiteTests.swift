import Foundation
import Testing
import DRCore
@testable import AWSProvider

/// Every case of the official SigV4 test suite (Fixtures/aws-sigv4, 113 cases).
struct SigV4SuiteTests {
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        struct Request: Decodable, Sendable {
            let method: String
            let path_and_query: String
            let headers: [[String]]
            let body: String
        }
        struct Credentials: Decodable, Sendable {
            let access_key: String
            let secret_key: String
            let session_token: String?
        }
        struct Options: Decodable, Sendable {
            let normalize_path: Bool
            let double_uri_encode: Bool
            let add_content_sha256_header: Bool
            let omit_session_token: Bool
            let expires_in: Int?
        }
        struct Expected: Decodable, Sendable {
            let canonical_request: String
            let string_to_sign: String
            let signature: String
            let authorization: String?
            let presigned_path_and_query: String?
        }
        let name: String
        let request: Request
        let credentials: Credentials
        let region: String
        let service: String
        let timestamp: String
        let signing_mode: String
        let options: Options
        let expected: Expected

        var testDescription: String { name }
    }

    struct Suite: Decodable { let cases: [Case] }

    static let cases: [Case] = {
        let url = Bundle.module.url(forResource: "sigv4-suite", withExtension: "json", subdirectory: "Fixtures/aws-sigv4")!
        return try! JSONDecoder().decode(Suite.self, from: Data(contentsOf: url)).cases
    }()

    @Test func suiteHasAllCases() {
        #expect(Self.cases.count == 113)
    }

    @Test(arguments: cases)
    func signsLikeTheOfficialSuite(_ testCase: Case) throws {
        let credentials = AWSCredentials(accessKeyId: testCase.credentials.access_key,
                                         secretAccessKey: testCase.credentials.secret_key,
                                         sessionToken: testCase.credentials.session_token)
        let options = SigV4Signer.Options(normalizePath: testCase.options.normalize_path,
                                          doubleURIEncode: testCase.options.double_uri_encode,
                                          addContentSHA256Header: testCase.options.add_content_sha256_header,
                                          omitSessionToken: testCase.options.omit_session_token)
        let signer = SigV4Signer(credentials: credentials, region: testCase.region, service: testCase.service, options: options)
        let date = try #require(ISO8601DateFormatter().date(from: testCase.timestamp))
        let headers = HTTPHeaders(testCase.request.headers.map { ($0[0], $0[1]) })
        let host = try #require(headers["host"])
        let url = "https://\(host)\(testCase.request.path_and_query)"
        let payload = SigV4Signer.Payload.bytes(Array(testCase.request.body.utf8))

        let result: SigV4Signer.Signature
        if testCase.signing_mode == "query" {
            result = signer.presign(method: testCase.request.method, url: url, headers: headers, payload: payload,
                                    date: date, expires: testCase.options.expires_in ?? 3600)
            let expectedURL = "https://\(host)\(try #require(testCase.expected.presigned_path_and_query))"
            #expect(result.url == expectedURL)
        } else {
            result = signer.sign(method: testCase.request.method, url: url, headers: headers, payload: payload, date: date)
            #expect(result.headers["authorization"] == testCase.expected.authorization)
        }
        #expect(result.canonicalRequest == testCase.expected.canonical_request)
        #expect(result.stringToSign == testCase.expected.string_to_sign)
        #expect(result.signature == testCase.expected.signature)
    }
}
