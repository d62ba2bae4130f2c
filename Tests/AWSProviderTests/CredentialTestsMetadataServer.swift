import DRCore
import Foundation
import Testing
@testable import AWSProvider

/// Container and IMDSv2 providers against Fixtures/metadata_server.py over real HTTP.
@Suite(.serialized)
struct MetadataServerCredentialTests {
    let transport = CurlTransport(configuration: .init(proxy: ProxySettings()))

    @Test func containerFullURIWithAuthorizationToken() async throws {
        let server = try MetadataServer(arguments: ["--container-token", "Bearer pod-token"])
        defer { server.stop() }
        let env = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.baseURL + "/ecs/credentials",
                   "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer pod-token"]
        let resolved = try await ContainerCredentialProvider(environment: env, transport: transport).resolve()
        #expect(resolved.credentials.accessKeyId == "ASIACONTAINER")
        #expect(resolved.credentials.sessionToken == "test-session-token-asiacontainer")
        #expect(resolved.credentials.expiration != nil)
        #expect(resolved.source == .container)

        var wrong = env
        wrong["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "Bearer stale"
        let error = await #expect(throws: CredentialError.self) {
            try await ContainerCredentialProvider(environment: wrong, transport: transport).resolve()
        }
        #expect(error?.kind == .httpFailed)
        #expect(error?.message.contains("HTTP 401") == true)
        #expect(error?.description.contains("stale") == false)
    }

    @Test func containerTokenFileIsReadOnEachRequest() async throws {
        let server = try MetadataServer(arguments: ["--container-token", "file-token-2"])
        defer { server.stop() }
        let home = try TemporaryHome()
        let tokenFile = try home.write("eks-token", "file-token-1\n")
        let provider = ContainerCredentialProvider(environment: [
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.baseURL + "/ecs/credentials",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored-when-file-is-set",
        ], transport: transport)
        await #expect(throws: CredentialError.self) { try await provider.resolve() }
        try home.write("eks-token", "file-token-2\n")
        #expect(try await provider.resolve().credentials.accessKeyId == "ASIACONTAINER")
    }

    @Test func containerRelativeURIIsJoinedToTheBase() async throws {
        let server = try MetadataServer()
        defer { server.stop() }
        let provider = ContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/ecs/v2/creds"],
                                                   transport: transport, relativeURIBase: server.baseURL)
        #expect(try await provider.resolve().credentials.accessKeyId == "ASIACONTAINER")
        #expect(try await server.calls(using: transport) == ["GET /ecs/v2/creds": 1])
    }

    @Test(arguments: [
        ("http://203.0.113.9/creds", false), ("http://evil.example/creds", false), ("ftp://127.0.0.1/x", false),
        ("http://127.0.0.1:8080/creds", true), ("http://127.1.2.3/creds", true), ("http://169.254.170.23/v1/credentials", true),
        ("http://[::1]:80/creds", true), ("https://creds.example.com/x", true), ("http://localhost/creds", true),
    ])
    func containerFullURIHostsFollowTheSDKRules(uri: String, allowed: Bool) throws {
        let provider = ContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri], transport: transport)
        if allowed {
            #expect(try provider.endpoint() == uri)
        } else {
            let error = #expect(throws: CredentialError.self) { try provider.endpoint() }
            #expect(error?.kind == .invalidConfiguration)
        }
    }

    @Test func instanceMetadataUsesTheIMDSv2TokenFlow() async throws {
        let server = try MetadataServer()
        defer { server.stop() }
        let provider = InstanceMetadataCredentialProvider(
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.baseURL + "/"], transport: transport)
        let resolved = try await provider.resolve()
        #expect(resolved.credentials.accessKeyId == "ASIAINSTANCE")
        #expect(resolved.source == .instanceMetadata)
        #expect(try await server.calls(using: transport) == [
            "PUT /latest/api/token": 1,
            "GET /latest/meta-data/iam/security-credentials/": 1,
            "GET /latest/meta-data/iam/security-credentials/drctl-instance-role": 1,
        ])
    }

    @Test func instanceWithoutRoleIsNotFound() async throws {
        let server = try MetadataServer(arguments: ["--role", ""])
        defer { server.stop() }
        let provider = InstanceMetadataCredentialProvider(
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.baseURL], transport: transport)
        let error = await #expect(throws: CredentialError.self) { try await provider.resolve() }
        #expect(error?.kind == .notFound)
        #expect(error?.message.contains("no IAM role") == true)
    }

    @Test func disabledInstanceMetadataMakesNoRequest() async throws {
        let server = try MetadataServer()
        defer { server.stop() }
        let provider = InstanceMetadataCredentialProvider(
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.baseURL, "AWS_EC2_METADATA_DISABLED": "TRUE"],
            transport: transport)
        let error = await #expect(throws: CredentialError.self) { try await provider.resolve() }
        #expect(error?.kind == .notFound)
        #expect(try await server.calls(using: transport).isEmpty)
    }

    @Test func unreachableInstanceMetadataFailsFastAsNotFound() async throws {
        // Port 1 on loopback refuses at once; the same path handles the 1 s connect timeout off EC2.
        let provider = InstanceMetadataCredentialProvider(
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1"], transport: transport)
        let error = await #expect(throws: CredentialError.self) { try await provider.resolve() }
        #expect(error?.kind == .notFound)
    }

    @Test func defaultChainFallsThroughToInstanceMetadataAndCachesIt() async throws {
        let server = try MetadataServer()
        defer { server.stop() }
        let home = try TemporaryHome()
        let chain = DefaultCredentialChain.make(
            environment: home.environment(["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.baseURL]),
            transport: transport, sts: FakeSecurityTokenService())
        #expect(try await chain.resolve().source == .instanceMetadata)
        #expect(try await chain.resolve().source == .instanceMetadata)
        #expect(try await server.calls(using: transport)["PUT /latest/api/token"] == 1)
    }
}
