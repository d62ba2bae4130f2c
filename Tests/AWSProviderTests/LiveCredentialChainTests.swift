import DRCore
import Foundation
import Testing
@testable import AWSProvider


extension TestBedSerial {
    /// The credential chain against moto's real STS (with SigV4 verification on): assume-role from a
    /// source profile and web identity, each followed by a call signed with the temporary keys.
    @Suite
    struct LiveCredentialChainTests {
        static let roleName = "drctl-dr-operator"

        /// Creates (once) a role that anyone in the account may assume, with an admin inline policy,
        /// so moto's IAM check lets the assumed credentials call STS.
        static func ensureRole(_ bed: TestBed) async throws -> String {
            let client = bed.client()
            let arn = "arn:aws:iam::\(bed.accountId):role/\(roleName)"
            var get = QueryParameters()
            get.set("RoleName", roleName)
            if (try? await client.send(QueryProtocol.request(action: "GetRole", version: "2010-05-08", parameters: get),
                                       service: .iam, region: "us-east-1")) != nil {
                return arn
            }
            var create = QueryParameters()
            create.set("RoleName", roleName)
            create.set("AssumeRolePolicyDocument", #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*","Federated":"*"},"Action":["sts:AssumeRole","sts:AssumeRoleWithWebIdentity"]}]}"#)
            _ = try await client.send(QueryProtocol.request(action: "CreateRole", version: "2010-05-08", parameters: create),
                                      service: .iam, region: "us-east-1")
            var policy = QueryParameters()
            policy.set("RoleName", roleName)
            policy.set("PolicyName", "admin")
            policy.set("PolicyDocument", #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
            _ = try await client.send(QueryProtocol.request(action: "PutRolePolicy", version: "2010-05-08", parameters: policy),
                                      service: .iam, region: "us-east-1")
            return arn
        }

        static func files(_ files: [String: String]) throws -> URL {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-chain-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (name, text) in files { try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) }
            return directory
        }

        @Test func assumeRoleFromASourceProfileSignsLaterCallsWithTheRole() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let roleArn = try await Self.ensureRole(bed)
            let directory = try Self.files([
                "credentials": "[base]\naws_access_key_id = \(bed.accessKeyId)\naws_secret_access_key = \(bed.secretAccessKey)\n",
                "config": "[profile dr]\nrole_arn = \(roleArn)\nsource_profile = base\nrole_session_name = drill-42\nregion = us-west-2\nendpoint_url = \(bed.proxyURL)\n",
            ])
            defer { try? FileManager.default.removeItem(at: directory) }
            let environment = ["AWS_CONFIG_FILE": directory.appendingPathComponent("config").path,
                               "AWS_SHARED_CREDENTIALS_FILE": directory.appendingPathComponent("credentials").path,
                               "AWS_EC2_METADATA_DISABLED": "true"]
            let configuration = try AWSConfiguration(environment: environment, profile: "dr")
            let transport = CurlTransport(configuration: .init(proxy: ProxySettings()))
            let endpoints = ConfiguredEndpointResolver(configuration: configuration)
            let chain = DefaultCredentialChain.make(environment: environment, profile: "dr", transport: transport,
                                                    sts: STSTokenService(transport: transport, endpoints: endpoints))
            let resolved = try await chain.resolve()
            #expect(resolved.credentials.sessionToken != nil)
            #expect(resolved.credentials.expiration != nil)
            #expect(resolved.credentials.accessKeyId != bed.accessKeyId)
            guard case .assumeRole(let role, _) = resolved.source else {
                Issue.record("expected assume-role, got \(resolved.source)")
                return
            }
            #expect(role == roleArn)

            let client = AWSClient(transport: transport, credentials: chain, endpoints: endpoints)
            let identity = try await STSClient(client: client).getCallerIdentity(region: "us-west-2")
            #expect(identity.arn == "arn:aws:sts::\(bed.accountId):assumed-role/\(Self.roleName)/drill-42")
            // Cached until expiry: a second resolve makes no second AssumeRole call.
            let before = try await bed.requestCount(service: "sts", operation: "AssumeRole")
            _ = try await chain.resolve()
            #expect(try await bed.requestCount(service: "sts", operation: "AssumeRole") == before)
        }

        @Test func webIdentityTokenFileAndRoleArnGiveRoleCredentials() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let roleArn = try await Self.ensureRole(bed)
            let directory = try Self.files(["token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZHI6ZHJjdGwifQ.c2ln"])
            defer { try? FileManager.default.removeItem(at: directory) }
            let environment = ["AWS_WEB_IDENTITY_TOKEN_FILE": directory.appendingPathComponent("token").path,
                               "AWS_ROLE_ARN": roleArn, "AWS_ROLE_SESSION_NAME": "eks-pod",
                               "AWS_ENDPOINT_URL": bed.proxyURL, "AWS_REGION": "us-east-1",
                               "AWS_CONFIG_FILE": "/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
                               "AWS_EC2_METADATA_DISABLED": "true"]
            let configuration = try AWSConfiguration(environment: environment)
            let transport = CurlTransport(configuration: .init(proxy: ProxySettings()))
            let endpoints = ConfiguredEndpointResolver(configuration: configuration)
            let chain = DefaultCredentialChain.make(environment: environment, transport: transport,
                                                    sts: STSTokenService(transport: transport, endpoints: endpoints))
            let resolved = try await chain.resolve()
            #expect(resolved.source == .webIdentity(roleArn: roleArn))
            let client = AWSClient(transport: transport, credentials: chain, endpoints: endpoints)
            let identity = try await STSClient(client: client).getCallerIdentity(region: "us-east-1")
            #expect(identity.arn.hasPrefix("arn:aws:sts::\(bed.accountId):assumed-role/\(Self.roleName)/"))
            // AssumeRoleWithWebIdentity is unsigned: the token is the proof.
            #expect(try await bed.requestCount(service: "sts", operation: "AssumeRoleWithWebIdentity") >= 1)
        }
    }
}
