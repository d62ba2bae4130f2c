import DRCore
import Foundation
import Testing
@testable import GCPProvider

/// An AWS-sourced external_account: drctl's subject token (a SigV4-signed GetCallerIdentity
/// request) is byte for byte the one google-auth's `aws.Credentials` makes at the same instant.
@Suite struct AWSSubjectTokenTests {
    static let audience = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/aws-pool/providers/aws"
    static let config = """
    {"type": "external_account", "audience": "\(audience)",
     "subject_token_type": "urn:ietf:params:aws:token-type:aws4_request", "token_url": "https://sts.googleapis.com/v1/token",
     "credential_source": {"environment_id": "aws1",
       "region_url": "http://169.254.169.254/latest/meta-data/placement/availability-zone",
       "url": "http://169.254.169.254/latest/meta-data/iam/security-credentials",
       "regional_cred_verification_url": "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15"}}
    """

    @Test(arguments: [nil, "FwoGZXIvYXdzEJr//////////wEaDOz+session/token=="])
    func subjectTokenIsTheOneGoogleAuthMakes(sessionToken: String?) async throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("aws.json", Self.config)
        var environment = ["AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                           "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"]
        if let sessionToken { environment["AWS_SESSION_TOKEN"] = sessionToken }
        let instant = Date(timeIntervalSince1970: 1_796_400_000)

        guard case .externalAccount(let configuration) = try GoogleCredentialFile.read(path: path),
              case .aws(let source) = configuration.subjectTokenSource else { Issue.record("not AWS-sourced"); return }
        let ours = try await AWSSubjectToken(source: source, audience: configuration.audience, environment: environment,
                                             transport: ScriptedTransport { _, _ in HTTPResponse(status: 500) },
                                             sourceName: path, now: { instant }).make()

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let script = try #require(Bundle.module.url(forResource: "google_auth_check", withExtension: "py", subdirectory: "Fixtures"))
        process.arguments = ["python3", script.path, "aws-subject-token", path, String(Int(instant.timeIntervalSince1970))]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if sessionToken == nil { process.environment?["AWS_SESSION_TOKEN"] = nil }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let theirs = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(ours == theirs)
        #expect(ours.removingPercentEncoding?.contains("x-goog-cloud-target-resource") == true)
    }

    @Test func aConfigurationWithoutAVerificationURLIsLocated() throws {
        let error = #expect(throws: GoogleAuthError.self) {
            try GoogleCredentialFile.parse(Data(Self.config.replacingOccurrences(of: "regional_cred_verification_url", with: "verification").utf8), path: "aws.json")
        }
        #expect(error?.description == "aws.json: field credential_source.regional_cred_verification_url: missing")
    }
}
