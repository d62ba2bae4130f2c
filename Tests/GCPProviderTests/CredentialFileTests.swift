import DRCore
import Foundation
import Testing
@testable import GCPProvider

/// Bad credentials files: a located error (path, field, what was expected), never a value from the file.
@Suite struct CredentialFileTests {
    static let secret = "SECRET-VALUE-THAT-MUST-NOT-LEAK-1234"

    func parseError(_ text: String) throws -> GoogleAuthError {
        let directory = try TemporaryDirectory()
        let path = try directory.write("key.json", text)
        do {
            _ = try GoogleCredentialFile.read(path: path)
        } catch let error as GoogleAuthError {
            #expect(error.kind == .malformedFile)
            #expect(error.description.hasPrefix(path), "\(error)")
            #expect(!error.description.contains(Self.secret), "\(error)")
            return error
        }
        throw GoogleAuthCheck.Failure(description: "parsed: \(text)")
    }

    @Test func truncatedJSONNamesThePositionNotTheContent() throws {
        let error = try parseError("{\"type\": \"service_account\",\n \"private_key\": \"\(Self.secret)")
        #expect(error.description.hasSuffix("not valid JSON at line 2, column \(Self.secret.count + 18): the file ends early (truncated?)"), "\(error)")
        #expect(try parseError("{\"type\": \"service_account\",,}").description.hasSuffix("not valid JSON at line 1, column 28"), "the second comma")
    }

    @Test func emptyFileAndNonObject() throws {
        #expect(try parseError("").description.hasSuffix("not valid JSON: the file is empty"))
        #expect(try parseError(#"["\#(Self.secret)"]"#).description.contains("expected a JSON object"))
    }

    @Test func missingFieldsAreNamed() throws {
        #expect(try parseError(#"{"private_key": "\#(Self.secret)"}"#).description.hasSuffix("field type: missing"))
        let noEmail = try parseError(#"{"type": "service_account", "private_key": "\#(Self.secret)", "token_uri": "https://oauth2.googleapis.com/token"}"#)
        #expect(noEmail.description.hasSuffix("field client_email: missing"), "\(noEmail)")
        let user = try parseError(#"{"type": "authorized_user", "client_id": "c", "client_secret": "\#(Self.secret)"}"#)
        #expect(user.description.hasSuffix("field refresh_token: missing"), "\(user)")
        let wrongType = try parseError(#"{"type": "authorized_user", "client_id": 7, "client_secret": "\#(Self.secret)", "refresh_token": "r"}"#)
        #expect(wrongType.description.hasSuffix("field client_id: expected a string"), "\(wrongType)")
    }

    @Test func aPrivateKeyThatIsNotRSAInPEMIsNamedWithoutShowingIt() throws {
        let error = try parseError("""
        {"type": "service_account", "client_email": "a@p.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token",
         "private_key": "-----BEGIN PRIVATE KEY-----\\n\(Self.secret)\\n-----END PRIVATE KEY-----\\n"}
        """)
        #expect(error.description.contains("field private_key: expected an RSA private key in PEM"), "\(error)")
    }

    @Test func unknownTypeListsTheKnownOnes() throws {
        let error = try parseError(#"{"type": "gdch_service_account", "private_key": "\#(Self.secret)"}"#)
        #expect(error.description.contains("field type: found 'gdch_service_account', expected one of service_account, authorized_user, external_account, impersonated_service_account"), "\(error)")
    }

    @Test func nestedSourceCredentialsAreLocatedByPath() throws {
        let error = try parseError("""
        {"type": "impersonated_service_account",
         "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/t@p.iam.gserviceaccount.com:generateAccessToken",
         "source_credentials": {"type": "authorized_user", "client_id": "c", "client_secret": "\(Self.secret)"}}
        """)
        #expect(error.description.hasSuffix("field source_credentials.refresh_token: missing"), "\(error)")
    }

    @Test func externalAccountNeedsExactlyOneSourceAndAJSONFieldName() throws {
        let both = try parseError("""
        {"type": "external_account", "audience": "//iam.googleapis.com/x", "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
         "credential_source": {"file": "/t", "url": "https://idp.example/token"}}
        """)
        #expect(both.description.contains("field credential_source: found several sources"), "\(both)")
        let noField = try parseError("""
        {"type": "external_account", "audience": "//iam.googleapis.com/x", "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
         "credential_source": {"file": "/t", "format": {"type": "json"}}}
        """)
        #expect(noField.description.hasSuffix("field credential_source.format.subject_token_field_name: missing"), "\(noField)")
    }

    @Test func parsesWhatGoogleWrites() throws {
        let directory = try TemporaryDirectory()
        let (keyFile, _) = try GoogleAuthCheck.makeKey(in: directory.path)
        guard case .serviceAccount(let key) = try GoogleCredentialFile.read(path: keyFile) else { Issue.record("not a service account"); return }
        #expect(key.clientEmail == "drctl-test@drctl-test-project.iam.gserviceaccount.com")
        #expect(key.projectId == "drctl-test-project")
        let external = try GoogleCredentialFile.parse(Data("""
        {"type": "external_account", "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/o",
         "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": "https://sts.googleapis.com/v1/token",
         "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/dr%40p.iam.gserviceaccount.com:generateAccessToken",
         "credential_source": {"url": "http://169.254.169.254/token", "headers": {"Metadata": "True"}, "format": {"type": "json", "subject_token_field_name": "access_token"}}}
        """.utf8), path: "ext.json")
        guard case .externalAccount(let configuration) = external else { Issue.record("not external"); return }
        #expect(configuration.impersonatedPrincipal == "dr@p.iam.gserviceaccount.com")
        #expect(configuration.format == .json(field: "access_token"))
        #expect(configuration.subjectTokenSource == .url("http://169.254.169.254/token", headers: ["Metadata": "True"]))
    }
}
