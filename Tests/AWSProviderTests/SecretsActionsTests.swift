import Foundation
import Testing
@testable import AWSProvider
@testable import DRCore

/// `aws.secretsmanager.check-replica` and `promote-replica` against moto's Secrets Manager, which
/// keeps replicas of a secret in the regions named by `AddReplicaRegions` and reports them in
/// `ReplicationStatus` (StopReplicationToReplica is the test bed's, as moto has none).
@Suite
struct SecretsActionsTests {
    struct CreateSecret: Encodable {
        struct Replica: Encodable { let Region: String }
        let Name: String
        let SecretString: String
        let AddReplicaRegions: [Replica]?
    }

    static func createSecret(_ client: AWSClient, replicaRegions: [String], name given: String? = nil,
                             region: String = "us-east-1") async throws -> String {
        let name = given ?? "drctl/\(TestBed.uniqueName("secret"))"
        let input = CreateSecret(Name: name, SecretString: #"{"password":"never-read-by-drctl"}"#,
                                 AddReplicaRegions: replicaRegions.isEmpty ? nil : replicaRegions.map(CreateSecret.Replica.init))
        _ = try await client.send(try JSONProtocol.request(operation: "CreateSecret", service: .secretsManager, input: input),
                                  service: .secretsManager, region: region)
        return name
    }

    static func check(_ client: AWSClient, _ secret: String, in region: String = "us-west-2") async throws -> [String: RunValue] {
        let action = try #require(SecretsActions.all(client: client).first { $0.name == "aws.secretsmanager.check-replica" })
        return try await StepRun.run(action, ["region": .string(region), "secret": .string(secret), "primary_region": .string("us-east-1")]).outputs
    }

    static func strings(_ value: RunValue?) -> [String] {
        guard case .list(let items)? = value else { return [] }
        return items.map(\.description)
    }

    @Test func aReplicatedSecretIsReadyInTheDRRegion() async throws {
        let bed = try TestBed.require()
        let (client, recorder) = bed.recordingClient()
        let secret = try await Self.createSecret(client, replicaRegions: ["us-west-2"])
        let outputs = try await Self.check(client, secret)
        #expect(Self.strings(outputs["problems"]) == [])
        #expect(outputs["replica_exists"] == .bool(true))
        #expect(outputs["replication_status"] == .string("InSync"))
        // Metadata only: no request asks for a secret's value.
        #expect(!recorder.requests.contains { $0.headers["X-Amz-Target"]?.hasSuffix("GetSecretValue") == true })
        let operations = try expectRequestsMatchBotocore(recorder)
        #expect(operations.isSuperset(of: ["CreateSecret", "DescribeSecret"]))
    }

    @Test func aSecretWithoutAReplicaInTheDRRegionIsAProblem() async throws {
        let bed = try TestBed.require()
        let (client, _) = bed.recordingClient()
        let secret = try await Self.createSecret(client, replicaRegions: [])
        let outputs = try await Self.check(client, secret)
        #expect(outputs["replica_exists"] == .bool(false))
        #expect(Self.strings(outputs["problems"]) == ["secret \(secret) has no replica in us-west-2: applications there cannot read it after the move (add one with ReplicateSecretToRegions)"])
    }

    @Test func aSecretReplicatedElsewhereIsNotEnough() async throws {
        let bed = try TestBed.require()
        let (client, _) = bed.recordingClient()
        let secret = try await Self.createSecret(client, replicaRegions: ["eu-west-1"])
        let outputs = try await Self.check(client, secret)
        #expect(Self.strings(outputs["problems"]).count == 1)
        // In the region that has a replica, it checks out.
        #expect(Self.strings(try await Self.check(client, secret, in: "eu-west-1")["problems"]) == [])
    }

    @Test func aStandaloneSecretOfTheSameNameIsANote() async throws {
        let bed = try TestBed.require()
        let (client, _) = bed.recordingClient()
        let secret = try await Self.createSecret(client, replicaRegions: [])
        _ = try await Self.createSecret(client, replicaRegions: [], name: secret, region: "us-west-2")
        let outputs = try await Self.check(client, secret)
        #expect(outputs["replica_exists"] == .bool(true))
        #expect(Self.strings(outputs["problems"]) == [])
        #expect(Self.strings(outputs["notes"]).contains { $0.contains("is a standalone secret, not a replica of the one in us-east-1") },
                "\(Self.strings(outputs["notes"]))")
    }

    @Test func anUnreachablePrimaryRegionIsANoteNotAProblem() async throws {
        let bed = try TestBed.require()
        let (client, _) = bed.recordingClient()
        let secret = try await Self.createSecret(client, replicaRegions: ["us-west-2"])
        // The replica answers in us-west-2; the "primary" region named here has no such secret.
        let action = try #require(SecretsActions.all(client: client).first { $0.name == "aws.secretsmanager.check-replica" })
        let outputs = try await StepRun.run(action, ["region": .string("us-west-2"), "secret": .string(secret),
                                                     "primary_region": .string("eu-central-1")]).outputs
        #expect(Self.strings(outputs["problems"]) == [])
        #expect(Self.strings(outputs["notes"]).contains { $0.contains("replicates from us-east-1, not from eu-central-1") })
    }

    static func promoteAction(_ client: AWSClient) throws -> any RunbookAction {
        try #require(SecretsActions.all(client: client).first { $0.name == "aws.secretsmanager.promote-replica" })
    }

    @Test func promotingTheReplicaMakesItStandaloneOnceAndDetachesItFromThePrimary() async throws {
        let bed = try TestBed.require()
        let (client, recorder) = bed.recordingClient()
        let secret = try await Self.createSecret(client, replicaRegions: ["us-west-2", "eu-west-1"])
        let secrets = SecretsManagerClient(client: client)
        let promote = try Self.promoteAction(client)
        let arguments: [String: RunValue] = ["region": .string("us-west-2"), "secret": .string(secret)]

        let first = try await StepRun.run(promote, arguments)
        #expect(!first.observedDone)
        #expect(first.outputs["standalone"] == .bool(true))
        #expect(first.outputs["promoted_from"] == .string("us-east-1"))
        #expect(first.outputs["arn"]?.stringValue?.contains(":us-west-2:") == true)
        // The test bed's view: standalone in us-west-2, and no longer among the primary's replicas.
        let promoted = try #require(try await secrets.describeSecret(id: secret, region: "us-west-2"))
        #expect(promoted.primaryRegion == nil || promoted.primaryRegion == "us-west-2")
        let primary = try #require(try await secrets.describeSecret(id: secret, region: "us-east-1"))
        #expect(primary.replicationStatus?.map(\.region) == ["eu-west-1"])

        // Run again (a resumed failover): observed done, no second StopReplicationToReplica.
        let again = try await StepRun.run(promote, arguments, resumed: true)
        #expect(again.observedDone)
        let stops = recorder.requests.filter { $0.headers["X-Amz-Target"]?.hasSuffix("StopReplicationToReplica") == true }
        #expect(stops.count == 1)
        #expect(!recorder.requests.contains { $0.headers["X-Amz-Target"]?.hasSuffix("GetSecretValue") == true })
        let operations = try expectRequestsMatchBotocore(recorder)
        #expect(operations.isSuperset(of: ["DescribeSecret", "StopReplicationToReplica"]))
    }

    @Test func promotingASecretWithoutAReplicaThereIsAPermanentError() async throws {
        let bed = try TestBed.require()
        let (client, _) = bed.recordingClient()
        let secret = try await Self.createSecret(client, replicaRegions: [])
        let error = await #expect(throws: ActionError.self) {
            _ = try await StepRun.run(try Self.promoteAction(client), ["region": .string("us-west-2"), "secret": .string(secret)])
        }
        #expect(error?.kind == .permanent)
        #expect(error?.message == "secret \(secret) does not exist in us-west-2: there is no replica to promote")
    }

    @Test func aSecretAlreadyStandaloneIsNotPromotedAgain() async throws {
        let bed = try TestBed.require()
        let (client, recorder) = bed.recordingClient()
        let secret = try await Self.createSecret(client, replicaRegions: [], region: "us-west-2")
        let outputs = try await StepRun.run(try Self.promoteAction(client), ["region": .string("us-west-2"), "secret": .string(secret)]).outputs
        #expect(outputs["standalone"] == .bool(true))
        #expect(outputs["promoted_from"] == .null)
        #expect(!recorder.requests.contains { $0.headers["X-Amz-Target"]?.hasSuffix("StopReplicationToReplica") == true })
    }
}
