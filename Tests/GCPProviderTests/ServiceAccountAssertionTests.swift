import DRCore
import Foundation
import Testing
@testable import GCPProvider

/// The service-account JWT and token request drctl builds, judged by google-auth itself.
@Suite struct ServiceAccountAssertionTests {
    static let scope = GoogleScopes.cloudPlatform

    /// drctl's token request for `keyFile`, captured without a network.
    func drctlTokenRequest(keyFile: String) async throws -> HTTPRequest {
        let transport = ScriptedTransport { _, _ in ScriptedTransport.token() }
        guard case .serviceAccount(let key) = try GoogleCredentialFile.read(path: keyFile) else {
            throw GoogleAuthCheck.Failure(description: "not a service account key")
        }
        let source = ServiceAccountTokenSource(key: key, endpoint: TokenEndpoint(transport: transport), sourceName: keyFile)
        let token = try await source.token(scopes: [Self.scope])
        #expect(token.value == "ya29.test-token")
        return try #require(transport.requests.first)
    }

    static func assertion(in request: HTTPRequest) -> String? {
        let form = String(decoding: request.body, as: UTF8.self)
        return form.split(separator: "&").first { $0.hasPrefix("assertion=") }.map { String($0.dropFirst("assertion=".count)) }
    }

    @Test func googleAuthVerifiesTheAssertionWithTheKeysCertificate() async throws {
        let directory = try TemporaryDirectory()
        let (keyFile, cert) = try GoogleAuthCheck.makeKey(in: directory.path, tokenURI: "http://127.0.0.1:9/oauth2/token")
        let request = try await drctlTokenRequest(keyFile: keyFile)
        let assertion = try #require(Self.assertion(in: request))

        let verified = try GoogleAuthCheck.run(["verify", keyFile, cert, assertion])
        #expect(verified.status == 0, "\(verified.stdout)")
        let header = try #require(verified.json["header"] as? [String: Any])
        let claims = try #require(verified.json["claims"] as? [String: Any])
        #expect(header["alg"] as? String == "RS256")
        #expect(header["kid"] as? String == "0123456789abcdef0123456789abcdef01234567")
        #expect(claims["iss"] as? String == "drctl-test@drctl-test-project.iam.gserviceaccount.com")
        #expect(claims["aud"] as? String == "http://127.0.0.1:9/oauth2/token")
        #expect(claims["scope"] as? String == Self.scope)
        let iat = try #require(claims["iat"] as? Int), exp = try #require(claims["exp"] as? Int)
        #expect(exp - iat == 3600)
        #expect(abs(Double(iat) - Date().timeIntervalSince1970) < 60)
    }

    @Test func googleAuthRefusesTheAssertionUnderAnotherKeysCertificate() async throws {
        let directory = try TemporaryDirectory(), other = try TemporaryDirectory()
        let (keyFile, _) = try GoogleAuthCheck.makeKey(in: directory.path)
        let (_, otherCert) = try GoogleAuthCheck.makeKey(in: other.path)
        let assertion = try #require(Self.assertion(in: try await drctlTokenRequest(keyFile: keyFile)))
        let verified = try GoogleAuthCheck.run(["verify", keyFile, otherCert, assertion])
        #expect(verified.status == 1, "google-auth accepted a signature made with another key: \(verified.stdout)")
    }

    /// Same URL, method, content type, form fields in the same order, grant type, and the same JWT
    /// header and claims text (timestamps aside) as google-auth's `service_account.Credentials`.
    @Test func tokenRequestIsTheOneGoogleAuthSends() async throws {
        let directory = try TemporaryDirectory()
        let (keyFile, _) = try GoogleAuthCheck.makeKey(in: directory.path)
        let reference = try GoogleAuthCheck.run(["request", keyFile, Self.scope])
        #expect(reference.status == 0)
        let google = reference.json
        let ours = try await drctlTokenRequest(keyFile: keyFile)

        #expect(ours.url == google["url"] as? String)
        #expect(ours.method == google["method"] as? String)
        #expect(ours.headers["Content-Type"] == (google["headers"] as? [String: String])?["Content-Type"])
        let form = String(decoding: ours.body, as: UTF8.self).split(separator: "&").map { $0.split(separator: "=", maxSplits: 1) }
        #expect(form.map { String($0[0]) } == google["form_names"] as? [String])
        #expect(form.last.map { String($0[1]) } == FormEncoding.escape(try #require(google["grant_type"] as? String)))

        let assertion = try #require(Self.assertion(in: ours)).split(separator: ".").map(String.init)
        #expect(assertion.count == 3)
        let header = String(decoding: try #require(Base64URL.decode(assertion[0])), as: UTF8.self)
        let claims = String(decoding: try #require(Base64URL.decode(assertion[1])), as: UTF8.self)
        #expect(header == google["assertion_header_json"] as? String)
        let digits = try Regex("[0-9]{9,}")
        #expect(claims.replacing(digits, with: "T") == (google["assertion_claims_json"] as? String)?.replacing(digits, with: "T"))
    }

    @Test func formEncodingMatchesPythonsQuotePlus() {
        #expect(FormEncoding.escape("a b+c/d:e~f_g.h-i") == "a+b%2Bc%2Fd%3Ae~f_g.h-i")
        #expect(FormEncoding.escape("é") == "%C3%A9")
    }
}
