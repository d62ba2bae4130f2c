@testable import DRCore
import Foundation
import Testing
@testable import AWSProvider

/// RDS actions against moto directly (no fault proxy): real state transitions from the test bed,
/// waited for through `RDSWaiters`.
@Suite struct RDSActionTests {
    let bed: TestBed
    let client: AWSClient
    let rds: RDSClient

    init() async throws {
        bed = try TestBed.require()
        client = bed.client(throughProxy: false)
        rds = RDSClient(client: client)
        try await RDSTestBed.useShortDelays(bed)
    }

    @Test func fencingByStopLeavesThePrimaryStoppedAndConfirmed() async throws {
        // RDS stops only an instance without read replicas.
        let primary = try await RDSTestBed.standalone(rds, name: TestBed.uniqueName("fence"))
        let fence = try RDSTestBed.action("aws.rds.fence-instance", client: client)
        let arguments: [String: RunValue] = ["region": .string(RDSTestBed.primaryRegion), "instance": .string(primary.identifier),
                                             "method": .string("stop")]
        let (observed, outputs) = try await RDSTestBed.run(fence, RDSTestBed.invocation(arguments))
        #expect(!observed)
        #expect(outputs["fenced"] == .bool(true))
        #expect(outputs["confirmed"] == .bool(true))
        let after = try await rds.findDBInstance(region: RDSTestBed.primaryRegion, identifier: primary.identifier)
        #expect(after?.status == "stopped")
        // Resumed (or retried), fencing finds it already done.
        let again = try await RDSTestBed.run(fence, RDSTestBed.invocation(arguments, resumed: true))
        #expect(again.observed)
        // A first try again (a new run): StopDBInstance is refused for a stopped instance, act
        // looks, finds it stopped, and the step still succeeds.
        let fresh = try await RDSTestBed.run(fence, RDSTestBed.invocation(arguments))
        #expect(!fresh.observed)
        #expect(fresh.outputs["confirmed"] == .bool(true))
    }

    @Test func fencingByStopAPrimaryThatHasReplicasFailsAtOnceWithTheFix() async throws {
        let (primary, replica) = try await RDSTestBed.primaryWithReplica(rds, prefix: "fencestop")
        let (recording, recorder) = bed.recordingClient()
        let fence = try RDSTestBed.action("aws.rds.fence-instance", client: recording)
        let arguments: [String: RunValue] = ["region": .string(RDSTestBed.primaryRegion), "instance": .string(primary.identifier),
                                             "method": .string("stop")]
        let error = await #expect(throws: ActionError.self) { _ = try await RDSTestBed.run(fence, RDSTestBed.invocation(arguments)) }
        // Not worth retrying, and it says what to do instead.
        #expect(error?.kind == .permanent)
        #expect(error?.message.contains("it has read replicas") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("security-group") == true)
        #expect(recorder.requests.filter { String(decoding: $0.body, as: UTF8.self).contains("Action=StopDBInstance&") }.count == 1)
        let after = try await rds.findDBInstance(region: RDSTestBed.primaryRegion, identifier: primary.identifier)
        #expect(after?.status == "available")
        #expect(try await rds.findDBInstance(region: RDSTestBed.drRegion, identifier: replica.identifier)?.readReplicaSource != nil)
    }

    @Test func fencingByParameterGroupMovesThePrimaryOntoTheReadOnlyGroup() async throws {
        let (primary, _) = try await RDSTestBed.primaryWithReplica(rds, prefix: "fencepg")
        let group = TestBed.uniqueName("read-only")
        _ = try await rds.call("CreateDBParameterGroup", region: RDSTestBed.primaryRegion) {
            $0.set("DBParameterGroupName", group)
            $0.set("DBParameterGroupFamily", "postgres13")
            $0.set("Description", "default_transaction_read_only=on")
        }
        let fence = try RDSTestBed.action("aws.rds.fence-instance", client: client)
        let arguments: [String: RunValue] = ["region": .string(RDSTestBed.primaryRegion), "instance": .string(primary.identifier),
                                             "method": .string("parameter-group"), "parameter_group": .string(group)]
        let (observed, outputs) = try await RDSTestBed.run(fence, RDSTestBed.invocation(arguments))
        #expect(!observed)
        #expect(outputs["confirmed"] == .bool(true))
        let after = try #require(try await rds.findDBInstance(region: RDSTestBed.primaryRegion, identifier: primary.identifier))
        #expect(after.parameterGroups.map(\.name) == [group])
        #expect(after.status == "available")
        #expect(try await RDSTestBed.run(fence, RDSTestBed.invocation(arguments, resumed: true)).observed)
    }

    @Test func fencingBySecurityGroupIsolatesAPrimaryThatHasReplicasAndEndsOpenConnections() async throws {
        let (primary, replica) = try await RDSTestBed.primaryWithReplica(rds, prefix: "fencesg")
        let (recording, recorder) = bed.recordingClient()
        let fence = try RDSTestBed.action("aws.rds.fence-instance", client: recording)
        let calls = { (action: String) in
            recorder.requests.filter { String(decoding: $0.body, as: UTF8.self).contains("Action=\(action)&") }.count
        }
        let arguments: [String: RunValue] = ["region": .string(RDSTestBed.primaryRegion), "instance": .string(primary.identifier),
                                             "method": .string("security-group"), "security_groups": .list([.string("sg-0isolate")])]
        let (observed, outputs) = try await RDSTestBed.run(fence, RDSTestBed.invocation(arguments))
        #expect(!observed)
        #expect(outputs["fenced"] == .bool(true))
        #expect(outputs["confirmed"] == .bool(true))
        let after = try #require(try await rds.findDBInstance(region: RDSTestBed.primaryRegion, identifier: primary.identifier))
        #expect(after.vpcSecurityGroupIds == ["sg-0isolate"])
        #expect(after.status == "available")
        // Security groups stop new connections only: the reboot ends the open ones.
        #expect(calls("ModifyDBInstance") == 1)
        #expect(calls("RebootDBInstance") == 1)
        // The replica is untouched and still replicates.
        #expect(try await rds.findDBInstance(region: RDSTestBed.drRegion, identifier: replica.identifier)?.readReplicaSource != nil)
        // Resumed, it cannot tell whether the reboot happened: it reboots again, without modifying.
        let resumed = try await RDSTestBed.run(fence, RDSTestBed.invocation(arguments, resumed: true))
        #expect(!resumed.observed)
        #expect(resumed.outputs["confirmed"] == .bool(true))
        #expect(calls("ModifyDBInstance") == 1)
        #expect(calls("RebootDBInstance") == 2)
        // Without the groups the step fails before calling anything.
        var missing = arguments
        missing["security_groups"] = nil
        await #expect(throws: ActionError.self) { _ = try await RDSTestBed.run(fence, RDSTestBed.invocation(missing)) }
    }

    @Test func fencingAnUnreachableRegionReportsUnconfirmedWithoutThrowing() async throws {
        let transport = CurlTransport(configuration: .init(timeouts: HTTPTimeouts(connect: .seconds(2), total: .seconds(4)), proxy: ProxySettings()))
        let unreachable = AWSClient(transport: transport, credentials: StaticCredentialProvider(bed.credentials),
                                    endpoints: StaticEndpointResolver(overrideURL: "http://127.0.0.1:9"),
                                    retry: RetryStrategy(maxAttempts: 2), sleep: { _ in })
        let fence = try RDSTestBed.action("aws.rds.fence-instance", client: unreachable)
        let (_, outputs) = try await RDSTestBed.run(fence, RDSTestBed.invocation(
            ["region": .string(RDSTestBed.primaryRegion), "instance": .string("old-primary")]))
        #expect(outputs["fenced"] == .bool(false))
        #expect(outputs["confirmed"] == .bool(false))
        let reason = try #require(outputs["reason"]?.stringValue)
        #expect(reason.contains("could not be confirmed"))
    }

    @Test func snapshotIsCopiedToTheDRRegionRestoredAndDeleted() async throws {
        let (primary, _) = try await RDSTestBed.primaryWithReplica(rds, prefix: "snap")
        let runId = TestBed.uniqueName("run")
        let east = RunValue.string(RDSTestBed.primaryRegion), west = RunValue.string(RDSTestBed.drRegion)

        let create = try await RDSTestBed.run(try RDSTestBed.action("aws.rds.create-snapshot", client: client), RDSTestBed.invocation(
            ["region": east, "instance": .string(primary.identifier)], runId: runId, stepId: "snapshot"))
        let snapshotName = try #require(create.outputs["snapshot"]?.stringValue)
        #expect(snapshotName.hasPrefix("drctl-"))
        let snapshotArn = try #require(create.outputs["arn"]?.stringValue)
        #expect(try await rds.findDBSnapshot(region: RDSTestBed.primaryRegion, snapshot: snapshotName)?.status == "available")

        let copy = try await RDSTestBed.run(try RDSTestBed.action("aws.rds.copy-snapshot", client: client), RDSTestBed.invocation(
            ["region": west, "source_region": east, "source_snapshot_arn": .string(snapshotArn)], runId: runId, stepId: "copy"))
        let copied = try #require(copy.outputs["snapshot"]?.stringValue)
        #expect(try await rds.findDBSnapshot(region: RDSTestBed.drRegion, snapshot: copied)?.status == "available")

        let restoredName = primary.identifier + "-restored"
        let restore = try await RDSTestBed.run(try RDSTestBed.action("aws.rds.restore-from-snapshot", client: client), RDSTestBed.invocation(
            ["region": west, "snapshot": .string(copied), "instance": .string(restoredName), "instance_class": .string("db.t3.small"),
             "tags": .map(["purpose": .string("drill")])], runId: runId, stepId: "restore"))
        #expect(restore.outputs["status"] == .string("available"))
        let restored = try #require(try await rds.findDBInstance(region: RDSTestBed.drRegion, identifier: restoredName))
        #expect(restored.status == "available")
        let tags = try await rds.listTags(region: RDSTestBed.drRegion, resourceArn: try #require(restored.arn))
        #expect(tags.contains(RDSTag(key: "purpose", value: "drill")))

        let delete = try RDSTestBed.action("aws.rds.delete-instance", client: client)
        let deleteArguments: [String: RunValue] = ["region": west, "instance": .string(restoredName), "skip_final_snapshot": .bool(true)]
        let deleted = try await RDSTestBed.run(delete, RDSTestBed.invocation(deleteArguments, runId: runId, stepId: "delete"))
        #expect(deleted.outputs["deleted"] == .bool(true))
        #expect(try await rds.findDBInstance(region: RDSTestBed.drRegion, identifier: restoredName) == nil)
        #expect(try await RDSTestBed.run(delete, RDSTestBed.invocation(deleteArguments, runId: runId, stepId: "delete")).observed)
    }

    @Test func deletingWithoutAFinalSnapshotChoiceIsRefused() async throws {
        let delete = try RDSTestBed.action("aws.rds.delete-instance", client: client)
        await #expect(throws: ActionError.self) {
            _ = try await delete.observe(RDSTestBed.invocation(["region": .string(RDSTestBed.drRegion), "instance": .string("any")]))
        }
    }

    @Test func replicaLagIsTheNewestCloudWatchDatapoint() async throws {
        let instance = TestBed.uniqueName("lagging")
        try await RDSTestBed.putReplicaLag(client, region: RDSTestBed.drRegion, instance: instance, seconds: 42)
        let lag = try RDSTestBed.action("aws.rds.replica-lag", client: client)
        let outputs = try await lag.verify(RDSTestBed.invocation(["region": .string(RDSTestBed.drRegion), "instance": .string(instance)]),
                                           acted: [:])
        #expect(outputs["lag_seconds"] == .double(42))

        let error = await #expect(throws: ActionError.self) {
            _ = try await lag.verify(RDSTestBed.invocation(["region": .string(RDSTestBed.drRegion), "instance": .string(instance + "-none")]),
                                     acted: [:])
        }
        #expect(error?.message.contains("no ReplicaLag datapoint") == true)
    }

    @Test func preflightReportsAMissingReplicaAsAProblem() async throws {
        let preflight = try RDSTestBed.action("aws.rds.preflight", client: client)
        let outputs = try await preflight.verify(RDSTestBed.invocation(
            ["region": .string(RDSTestBed.drRegion), "instance": .string(TestBed.uniqueName("absent")),
             "source_instance": .string("primary"), "source_region": .string(RDSTestBed.primaryRegion)]), acted: [:])
        #expect(outputs["replica_exists"] == .bool(false))
        #expect(outputs["replicating"] == .bool(false))
        guard case .list(let problems)? = outputs["problems"] else { Issue.record("no problems list"); return }
        #expect(problems.contains { $0.stringValue?.contains("does not exist") == true })
    }

    @Test func preflightWithoutAReplicaNeedsThePrimarysParameterAndOptionGroupsInTheDRRegion() async throws {
        let (client, recorder) = bed.recordingClient()
        let rds = RDSClient(client: client)
        let name = TestBed.uniqueName("groups")
        func createGroups(in region: String) async throws {
            _ = try await rds.call("CreateDBParameterGroup", region: region) {
                $0.set("DBParameterGroupName", name + "-pg")
                $0.set("DBParameterGroupFamily", "postgres13")
                $0.set("Description", "drctl test")
            }
            _ = try await rds.call("CreateOptionGroup", region: region) {
                $0.set("OptionGroupName", name + "-og")
                $0.set("EngineName", "postgres")
                $0.set("MajorEngineVersion", "13")
                $0.set("OptionGroupDescription", "drctl test")
            }
        }
        try await createGroups(in: RDSTestBed.primaryRegion)
        _ = try await rds.call("CreateDBInstance", region: RDSTestBed.primaryRegion) {
            $0.set("DBInstanceIdentifier", name + "-primary")
            $0.set("DBInstanceClass", "db.t3.micro")
            $0.set("Engine", "postgres")
            $0.set("EngineVersion", "13.7")
            $0.set("MasterUsername", "drctl")
            $0.set("MasterUserPassword", "not-a-secret-\(UInt32.random(in: 0...UInt32.max))")
            $0.set("AllocatedStorage", 20)
            $0.set("DBParameterGroupName", name + "-pg")
            $0.set("OptionGroupName", name + "-og")
        }
        let preflight = try RDSTestBed.action("aws.rds.preflight", client: client)
        let arguments: [String: RunValue] = ["region": .string(RDSTestBed.drRegion), "instance": .string(name + "-replica"),
                                             "source_instance": .string(name + "-primary"), "source_region": .string(RDSTestBed.primaryRegion)]
        func problems(_ outputs: [String: RunValue]) -> [String] {
            guard case .list(let items)? = outputs["problems"] else { return [] }
            return items.compactMap(\.stringValue)
        }
        let missing = try await preflight.verify(RDSTestBed.invocation(arguments), acted: [:])
        #expect(problems(missing).contains("DB parameter group \(name)-pg does not exist in us-west-2"), "\(problems(missing))")
        #expect(problems(missing).contains("option group \(name)-og does not exist in us-west-2"), "\(problems(missing))")
        #expect(missing["parameter_group_present"] == .bool(false))
        #expect(missing["option_group_present"] == .bool(false))

        try await createGroups(in: RDSTestBed.drRegion)
        let present = try await preflight.verify(RDSTestBed.invocation(arguments), acted: [:])
        #expect(problems(present) == ["replica \(name)-replica does not exist in us-west-2"])
        #expect(present["parameter_group_present"] == .bool(true))
        #expect(present["option_group_present"] == .bool(true))
        let operations = try expectRequestsMatchBotocore(recorder)
        #expect(operations.isSuperset(of: ["DescribeDBParameterGroups", "DescribeOptionGroups"]))
    }

    @Test func preflightOfAHealthyReplicaFindsNoProblem() async throws {
        let (primary, replica) = try await RDSTestBed.primaryWithReplica(rds, prefix: "pre")
        try await RDSTestBed.putReplicaLag(client, region: RDSTestBed.drRegion, instance: replica.identifier, seconds: 3)
        let preflight = try RDSTestBed.action("aws.rds.preflight", client: client)
        let outputs = try await preflight.verify(RDSTestBed.invocation(
            ["region": .string(RDSTestBed.drRegion), "instance": .string(replica.identifier),
             "source_instance": .string(primary.identifier), "source_region": .string(RDSTestBed.primaryRegion)]), acted: [:])
        #expect(outputs["replica_exists"] == .bool(true))
        #expect(outputs["replicating"] == .bool(true))
        #expect(outputs["lag_seconds"] == .double(3))
        #expect(outputs["problems"] == .list([]), "\(outputs)")
    }

    @Test func kmsKeyCheckFindsAKeyOnlyInItsOwnRegion() async throws {
        struct CreateKeyInput: Encodable { let Description: String }
        struct CreateKeyOutput: Decodable { struct Metadata: Decodable { let KeyId: String }; let KeyMetadata: Metadata }
        let request = try JSONProtocol.request(operation: "CreateKey", service: .kms, input: CreateKeyInput(Description: "drctl DR key"))
        let response = try await client.send(request, service: .kms, region: RDSTestBed.drRegion)
        let keyId = try AWSResponseDecoding.json(CreateKeyOutput.self, from: response, operation: "CreateKey").KeyMetadata.KeyId
        let check = RDSKMSKeyCheck(client: client)
        #expect(try await check.describeKey(region: RDSTestBed.drRegion, keyId: keyId)?.enabled == true)
        #expect(try await check.describeKey(region: RDSTestBed.primaryRegion, keyId: keyId) == nil)
    }

    @Test func describeSaysWhichCallsAMutatingActionMakes() throws {
        let promote = try RDSTestBed.action("aws.rds.promote-read-replica", client: client)
        let text = promote.describe(["region": .string("us-west-2"), "instances": .list([.string("db-a")]), "backup_retention_days": .int(7)])
        #expect(text.contains("PromoteReadReplica") && text.contains("BackupRetentionPeriod=7") && text.contains("db-a")
                && text.contains("us-west-2"))
        for action in RDSActions.all(client: client) {
            #expect(action.parameters.contains { $0.name == "region" && $0.required }, "\(action.name)")
        }
        #expect(RDSActions.identifier(from: "Run_01--ABC-step.x") == "drctl-run-01-abc-step-x")
    }
}
