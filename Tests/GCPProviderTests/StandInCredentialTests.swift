import DRCore
import Foundation
import Testing
@testable import GCPProvider

/// Every credential source end to end against the test bed's stand-in: its token endpoint verifies
/// drctl's JWT with google-auth, its APIs accept only tokens it issued.
@Suite(.serialized) struct StandInCredentialTests {
    @Test func serviceAccountKey() async throws {
        let bed = try GCPStandIn.require(), home = try TemporaryDirectory()
        let env = bed.environment(["GOOGLE_APPLICATION_CREDENTIALS": bed.keyFile], home: home)
        let credentials = try await bed.credentials(env)
        #expect(credentials.source == "GOOGLE_APPLICATION_CREDENTIALS=\(bed.keyFile) (service_account)")
        #expect(credentials.project == bed.project && credentials.projectSource == "project_id in the credentials file")
        #expect(try await bed.listInstances(bed.client(credentials, environment: env)).status == 200)
        let identity = try await GCPIdentity.identify(credentials, transport: bed.transport)
        #expect(identity.principal == bed.serviceAccount)
        try await bed.expectNoViolations()
    }

    @Test func gcloudADCFileWithUserCredentialsAndQuotaProject() async throws {
        let bed = try GCPStandIn.require(), home = try TemporaryDirectory()
        try home.write("gcloud/application_default_credentials.json", String(contentsOfFile: bed.adcFile, encoding: .utf8))
        let env = bed.environment(["CLOUDSDK_CONFIG": home.path + "/gcloud", "GOOGLE_CLOUD_PROJECT": bed.project], home: home)
        let credentials = try await bed.credentials(env)
        #expect(credentials.source.hasPrefix("gcloud ADC file \(home.path)/gcloud/application_default_credentials.json (authorized_user)"))
        #expect(credentials.quotaProject == bed.project)
        #expect(credentials.projectSource == "GOOGLE_CLOUD_PROJECT")
        #expect(try await bed.listInstances(bed.client(credentials, environment: env)).status == 200)
    }

    @Test func metadataServer() async throws {
        let bed = try GCPStandIn.require(), home = try TemporaryDirectory()
        var env = bed.environment(["GCE_METADATA_HOST": String(bed.url.dropFirst("http://".count))], home: home)
        env["NO_GCE_CHECK"] = nil
        let credentials = try await bed.credentials(env)
        #expect(credentials.source.hasPrefix("metadata server"))
        #expect(credentials.project == bed.project && credentials.projectSource == "metadata server project/project-id")
        #expect(try await bed.listInstances(bed.client(credentials, environment: env)).status == 200)
        #expect(try await GCPIdentity.identify(credentials, transport: bed.transport).principal == GCPStandIn.gceAccount)
    }

    /// Workload identity federation: file-sourced text token, and URL-sourced JSON with impersonation on top.
    @Test func externalAccountFileAndURLSourced() async throws {
        let bed = try GCPStandIn.require(), home = try TemporaryDirectory()
        let tokenFile = home.path + "/subject-token"
        let fileSourced = try await bed.admin("POST", "workload-identity", ["token_file": tokenFile, "subject": "ci-file",
                                                                            "roles": ["roles/editor"], "project": bed.project]) as? [String: Any]
        let fileConfig = try home.write("external-file.json", String(decoding: try JSONSerialization.data(withJSONObject: try #require(fileSourced?["external_account"])), as: UTF8.self))
        let fileEnv = bed.environment(["GOOGLE_APPLICATION_CREDENTIALS": fileConfig, "GOOGLE_CLOUD_PROJECT": bed.project], home: home)
        let federated = try await bed.credentials(fileEnv)
        #expect(try await bed.listInstances(bed.client(federated, environment: fileEnv)).status == 200)

        let urlSourced = try await bed.admin("POST", "workload-identity", ["subject": "ci-url", "impersonate": bed.serviceAccount]) as? [String: Any]
        var info = try #require(urlSourced?["external_account"] as? [String: Any])
        var source = try #require(info["credential_source"] as? [String: Any])
        source["format"] = ["type": "json", "subject_token_field_name": "id_token"]   // the bed's URL answers {"id_token": …}
        info["credential_source"] = source
        let urlConfig = try home.write("external-url.json", String(decoding: try JSONSerialization.data(withJSONObject: info), as: UTF8.self))
        let urlEnv = bed.environment(["GOOGLE_APPLICATION_CREDENTIALS": urlConfig, "GOOGLE_CLOUD_PROJECT": bed.project], home: home)
        let impersonating = try await bed.credentials(urlEnv)
        #expect(impersonating.principal == bed.serviceAccount)
        #expect(try await bed.listInstances(bed.client(impersonating, environment: urlEnv)).status == 200)
        #expect(try await GCPIdentity.identify(impersonating, transport: bed.transport).principal == bed.serviceAccount)
        try await bed.expectNoViolations()
    }

    @Test func impersonationFromAFileAndFromTheEnvironment() async throws {
        let bed = try GCPStandIn.require(), home = try TemporaryDirectory()
        try await bed.admin("POST", "impersonation", ["caller": bed.serviceAccount, "target": GCPStandIn.gceAccount])
        let key = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bed.keyFile)))
        let file = try home.write("impersonated.json", String(decoding: try JSONSerialization.data(withJSONObject: [
            "type": "impersonated_service_account", "delegates": [String](),
            "service_account_impersonation_url": bed.url + "/iamcredentials/v1/projects/-/serviceAccounts/\(GCPStandIn.gceAccount):generateAccessToken",
            "source_credentials": key,
        ]), as: UTF8.self))
        let fileEnv = bed.environment(["GOOGLE_APPLICATION_CREDENTIALS": file, "GOOGLE_CLOUD_PROJECT": bed.project], home: home)
        let fromFile = try await bed.credentials(fileEnv)
        #expect(fromFile.principal == GCPStandIn.gceAccount)
        #expect(try await bed.listInstances(bed.client(fromFile, environment: fileEnv)).status == 200)

        let env = bed.environment(["GOOGLE_APPLICATION_CREDENTIALS": bed.keyFile,
                                   "CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT": GCPStandIn.gceAccount], home: home)
        let fromEnvironment = try await bed.credentials(env)
        #expect(fromEnvironment.source == "impersonating \(GCPStandIn.gceAccount) via GOOGLE_APPLICATION_CREDENTIALS=\(bed.keyFile) (service_account)")
        #expect(try await bed.listInstances(bed.client(fromEnvironment, environment: env)).status == 200)
        let before = try await bed.tokensIssued(to: GCPStandIn.gceAccount)
        _ = try await bed.listInstances(bed.client(fromEnvironment, environment: env))
        #expect(try await bed.tokensIssued(to: GCPStandIn.gceAccount) == before, "the impersonated token was not reused")
    }

    /// The right account and key id, another private key: the token endpoint refuses, and nothing
    /// of the key or the assertion reaches the error.
    @Test func aWrongKeyIsRefusedWithoutShowingIt() async throws {
        let bed = try GCPStandIn.require(), home = try TemporaryDirectory()
        let (otherKey, _) = try GoogleAuthCheck.makeKey(in: home.path)
        var key = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bed.keyFile))) as? [String: Any])
        let otherPEM = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: otherKey))) as? [String: Any])?["private_key"] as? String)
        key["private_key"] = otherPEM
        let wrong = try home.write("wrong.json", String(decoding: try JSONSerialization.data(withJSONObject: key), as: UTF8.self))
        let env = bed.environment(["GOOGLE_APPLICATION_CREDENTIALS": wrong], home: home)
        let credentials = try await bed.credentials(env)
        let error = try #require(await #expect(throws: GoogleAuthError.self) { try await bed.listInstances(bed.client(credentials, environment: env)) })
        #expect(error.kind == .rejected)
        #expect(error.description.contains("invalid_grant"), "\(error)")
        let pemBody = otherPEM.split(separator: "\n").dropFirst().first.map(String.init) ?? "?"
        #expect(!error.description.contains(pemBody) && !error.description.contains("eyJ"), "\(error)")
    }

    /// An expired token is answered with one fresh token; a token refused every time ends as an
    /// authentication error after exactly that one retry.
    @Test func anExpiredTokenIsReplacedOnceThenTheRefusalStands() async throws {
        let bed = try GCPStandIn.require(), home = try TemporaryDirectory()
        let env = bed.environment(["GOOGLE_APPLICATION_CREDENTIALS": bed.keyFile], home: home)
        let client = try bed.client(try await bed.credentials(env), environment: env)
        _ = try await bed.listInstances(client)
        let before = try await bed.tokensIssued(to: bed.serviceAccount)
        try await bed.admin("POST", "tokens/expire")
        #expect(try await bed.listInstances(client).status == 200)
        #expect(try await bed.tokensIssued(to: bed.serviceAccount) == before + 1)

        try await bed.admin("POST", "config", ["token_lifetime": 0])
        defer { Task { _ = try? await bed.admin("POST", "config", ["token_lifetime": 3599]) } }
        let calls = { try await bed.calls("sql.instances.list") }
        let callsBefore = try await calls()
        let refused = try bed.client(try await bed.credentials(env), environment: env)
        let error = try #require(await #expect(throws: GCPServiceError.self) { try await bed.listInstances(refused) })
        #expect(error.category == .authentication && error.status == "UNAUTHENTICATED")
        #expect(try await calls() - callsBefore == 2)
        try await bed.admin("POST", "config", ["token_lifetime": 3599])
    }

    @Test func throttlingAndUnavailableAreRetriedThenSucceed() async throws {
        let bed = try GCPStandIn.require(), home = try TemporaryDirectory()
        let env = bed.environment(["GOOGLE_APPLICATION_CREDENTIALS": bed.keyFile], home: home)
        let client = try bed.client(try await bed.credentials(env), environment: env, maxAttempts: 5)
        try await bed.admin("POST", "faults", ["rules": [["method": "sqladmin.instances.list", "fault": "throttle", "times": 2],
                                                         ["method": "sqladmin.instances.list", "fault": "error5xx", "times": 1]]])
        defer { Task { _ = try? await bed.admin("DELETE", "faults") } }
        let calls = { try await bed.calls("sql.instances.list") }
        let before = try await calls()
        #expect(try await bed.listInstances(client).status == 200)
        #expect(try await calls() - before == 4)
        try await bed.admin("DELETE", "faults")
    }

    @Test func oneTokenRequestForManyCalls() async throws {
        let bed = try GCPStandIn.require(), home = try TemporaryDirectory()
        let env = bed.environment(["GOOGLE_APPLICATION_CREDENTIALS": bed.keyFile], home: home)
        let client = try bed.client(try await bed.credentials(env), environment: env)
        let before = try await bed.tokensIssued(to: bed.serviceAccount)
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<25 { group.addTask { try await bed.listInstances(client).status } }
            for try await status in group { #expect(status == 200) }
        }
        #expect(try await bed.tokensIssued(to: bed.serviceAccount) == before + 1)
    }
}
