import DRCore
import Foundation
import Testing
@testable import GCPProvider

/// The order and the failures of Application Default Credentials that need no server.
@Suite struct ApplicationDefaultCredentialsTests {
    let transport = CurlTransport(configuration: .init(proxy: ProxySettings()))

    func resolve(_ environment: [String: String], impersonate: String? = nil) async throws -> GoogleCredentials {
        try await ApplicationDefaultCredentials(environment: environment, transport: transport,
                                                endpoints: try GCPEndpoints(environment: environment), impersonate: impersonate).resolve()
    }

    @Test func theEnvironmentVariableWinsOverTheGcloudFile() async throws {
        let home = try TemporaryDirectory()
        let (key, _) = try GoogleAuthCheck.makeKey(in: home.path)
        try home.write(".config/gcloud/application_default_credentials.json",
                       #"{"type": "authorized_user", "client_id": "c", "client_secret": "s-secret", "refresh_token": "r-secret", "quota_project_id": "q"}"#)
        let explicit = try await resolve(["HOME": home.path, "GOOGLE_APPLICATION_CREDENTIALS": key, "GOOGLE_CLOUD_QUOTA_PROJECT": "billing"])
        #expect(explicit.source == "GOOGLE_APPLICATION_CREDENTIALS=\(key) (service_account)")
        #expect(explicit.principal == "drctl-test@drctl-test-project.iam.gserviceaccount.com")
        #expect(explicit.quotaProject == "billing")
        let gcloud = try await resolve(["HOME": home.path])
        #expect(gcloud.source == "gcloud ADC file \(home.path)/.config/gcloud/application_default_credentials.json (authorized_user)")
        #expect(gcloud.quotaProject == "q" && gcloud.project == "q")
    }

    @Test func aSetButMissingFileIsAnErrorNotAFallThrough() async throws {
        let home = try TemporaryDirectory()
        try home.write(".config/gcloud/application_default_credentials.json",
                       #"{"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r"}"#)
        let error = await #expect(throws: GoogleAuthError.self) {
            try await resolve(["HOME": home.path, "GOOGLE_APPLICATION_CREDENTIALS": home.path + "/absent.json"])
        }
        #expect(error?.kind == .malformedFile)
        #expect(error?.description == "\(home.path)/absent.json: file not found")
    }

    /// Nothing anywhere, and a metadata host that refuses or never answers: "no credentials"
    /// quickly, each source named. The bound is the difference between the probe's own short
    /// timeouts and a hang on the kernel's connect timeout (minutes), not a benchmark: loose
    /// enough for a loaded CI machine (a 2 s bound failed there at 2.9 s).
    @Test(arguments: ["127.0.0.1:1", "10.255.255.1"])
    func noMetadataServerEndsQuickly(host: String) async throws {
        let home = try TemporaryDirectory()
        let started = Date()
        let error = await #expect(throws: GoogleAuthError.self) { try await resolve(["HOME": home.path, "GCE_METADATA_HOST": host]) }
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(error?.kind == .notFound)
        #expect(error?.description.contains("metadata server: nothing answers at \(host)") == true, "\(String(describing: error))")
        #expect(error?.attempts.count == 3)
    }

    @Test func anImpersonationChainEndsWithTheTarget() async throws {
        let home = try TemporaryDirectory()
        let (key, _) = try GoogleAuthCheck.makeKey(in: home.path)
        let credentials = try await resolve(["HOME": home.path, "GOOGLE_APPLICATION_CREDENTIALS": key,
                                             "CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT": "ignored@p.iam.gserviceaccount.com"],
                                            impersonate: "a@p.iam.gserviceaccount.com,target@p.iam.gserviceaccount.com")
        #expect(credentials.principal == "target@p.iam.gserviceaccount.com")
        #expect(credentials.source == "impersonating target@p.iam.gserviceaccount.com via GOOGLE_APPLICATION_CREDENTIALS=\(key) (service_account)")
        let error = await #expect(throws: GoogleAuthError.self) {
            try await resolve(["HOME": home.path, "GOOGLE_APPLICATION_CREDENTIALS": key], impersonate: "not-an-email")
        }
        #expect(error?.kind == .invalidConfiguration)
    }
}
