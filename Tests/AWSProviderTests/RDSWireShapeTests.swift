@testable import DRCore
import Foundation
import Testing
@testable import AWSProvider

/// Every request the RDS, CloudWatch and KMS code sends, recorded at the transport and checked
/// against botocore's service models (Fixtures/check_request_shapes.py): the operation
/// exists, each Query parameter is a path through the input shape with the model's list member
/// names (`Tags.Tag.1.Key`, `VpcSecurityGroupIds.VpcSecurityGroupId.1`), required members are
/// present, and the `PreSignedUrl` of cross-region calls presigns the same operation.
@Suite struct RDSWireShapeTests {
    @Test func everyRDSRequestMatchesBotocoresModel() async throws {
        let bed = try TestBed.require()
        let recorder = RecordingTransport(CurlTransport(configuration: .init(proxy: ProxySettings())))
        let client = AWSClient(transport: recorder, credentials: StaticCredentialProvider(bed.credentials),
                               endpoints: StaticEndpointResolver(overrideURL: bed.motoURL), retry: RetryStrategy(maxAttempts: 1))
        let rds = RDSClient(client: client)
        let east = RDSTestBed.primaryRegion, west = RDSTestBed.drRegion
        let name = TestBed.uniqueName("shape")
        let arn = "arn:aws:rds:\(east):\(bed.accountId):db:\(name)"
        let tags = [RDSTag(key: "team", value: "dr")]

        // Success does not matter here, only what goes on the wire: each call is tried once.
        func attempt(_ body: () async throws -> Void) async { try? await body() }
        await attempt { _ = try await rds.createDBInstance(region: east, .init(identifier: name, instanceClass: "db.t3.micro", engine: "postgres",
                                                                              masterUsername: "drctl", masterUserPassword: "shape-test-pw",
                                                                              allocatedStorage: 20, storageEncrypted: false, tags: tags)) }
        await attempt { _ = try await rds.describeDBInstances(region: east, identifier: name, pageSize: 20) }
        // Coalesced reads: several instances by the db-instance-id filter, groups listed once.
        await attempt { _ = try await rds.instances(region: east, identifiers: [name, name + "-r"], deadline: nil) }
        await attempt { _ = try await rds.groupsPresent(.init(kind: .parameter, region: west), names: ["a", "b"], deadline: nil) }
        await attempt { _ = try await rds.groupsPresent(.init(kind: .subnet, region: west), names: ["a", "b"], deadline: nil) }
        await attempt { _ = try await rds.createDBInstanceReadReplica(region: west, identifier: name + "-r", source: arn, sourceRegion: east,
                                                                      instanceClass: "db.t3.micro", kmsKeyId: "alias/dr", subnetGroup: "dr", tags: tags) }
        await attempt { _ = try await rds.createDBSnapshot(region: east, instance: name, snapshot: name + "-s", tags: tags) }
        await attempt { _ = try await rds.describeDBSnapshots(region: east, snapshot: name + "-s", instance: name, snapshotType: "manual") }
        await attempt { _ = try await rds.copyDBSnapshot(region: west, sourceRegion: east, sourceSnapshot: arn + "-s", targetSnapshot: name + "-c",
                                                         kmsKeyId: "alias/dr", copyTags: true, tags: tags) }
        await attempt { _ = try await rds.restoreDBInstanceFromDBSnapshot(region: west, identifier: name + "-x", snapshot: name + "-c",
                                                                          instanceClass: "db.t3.small", subnetGroup: "dr", tags: tags) }
        await attempt { _ = try await rds.restoreDBInstanceToPointInTime(region: east, source: name, target: name + "-p", to: .latest) }
        await attempt { _ = try await rds.restoreDBInstanceToPointInTime(region: east, source: name, target: name + "-q", to: .time(Date())) }
        await attempt { _ = try await rds.modifyDBInstance(region: east, identifier: name, .init(
            parameterGroup: "read-only", vpcSecurityGroupIds: ["sg-1", "sg-2"], dbSecurityGroups: ["legacy"], backupRetentionPeriod: 7,
            applyImmediately: true)) }
        await attempt { _ = try await rds.promoteReadReplica(region: west, identifier: name + "-r", backupRetentionPeriod: 7) }
        await attempt { _ = try await rds.rebootDBInstance(region: east, identifier: name, forceFailover: false) }
        await attempt { _ = try await rds.stopDBInstance(region: east, identifier: name) }
        await attempt { _ = try await rds.deleteDBInstance(region: west, identifier: name + "-x", finalSnapshot: .named(name + "-final")) }
        await attempt { _ = try await rds.deleteDBInstance(region: west, identifier: name + "-r", finalSnapshot: .skip) }
        await attempt { _ = try await rds.describeDBSubnetGroups(region: west, name: "dr") }
        await attempt { _ = try await rds.describeDBParameterGroups(region: west, name: "read-only") }
        await attempt { try await rds.addTags(region: east, resourceArn: arn, tags: tags) }
        await attempt { _ = try await rds.listTags(region: east, resourceArn: arn) }
        await attempt { _ = try await rds.describeGlobalCluster(region: west, identifier: "app-global") }
        await attempt { _ = try await rds.failoverGlobalCluster(region: west, globalCluster: "app-global", targetClusterArn: arn, allowDataLoss: true) }
        await attempt { _ = try await rds.switchoverGlobalCluster(region: west, globalCluster: "app-global", targetClusterArn: arn) }
        await attempt { _ = try await RDSReplicaLag(client: client).latest(region: west, instance: name) }
        await attempt { _ = try await RDSKMSKeyCheck(client: client).describeKey(region: west, keyId: "alias/dr") }

        let verdicts = try checkRequestShapes(recorder.requests)
        let problems = verdicts.flatMap { verdict in verdict.problems.map { "\(verdict.service ?? "?") \(verdict.operation ?? "?"): \($0)" } }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        let operations = Set(verdicts.compactMap { verdict in verdict.operation.map { "\(verdict.service ?? "?").\($0)" } })
        let expected: Set<String> = [
            "rds.CreateDBInstance", "rds.DescribeDBInstances", "rds.CreateDBInstanceReadReplica", "rds.CreateDBSnapshot",
            "rds.DescribeDBSnapshots", "rds.CopyDBSnapshot", "rds.RestoreDBInstanceFromDBSnapshot", "rds.RestoreDBInstanceToPointInTime",
            "rds.ModifyDBInstance", "rds.PromoteReadReplica", "rds.RebootDBInstance", "rds.StopDBInstance", "rds.DeleteDBInstance",
            "rds.DescribeDBSubnetGroups", "rds.DescribeDBParameterGroups", "rds.AddTagsToResource", "rds.ListTagsForResource",
            "rds.DescribeGlobalClusters", "rds.FailoverGlobalCluster", "rds.SwitchoverGlobalCluster", "cloudwatch.GetMetricData",
            "kms.DescribeKey",
        ]
        #expect(expected.subtracting(operations).isEmpty, "not sent: \(expected.subtracting(operations).sorted())")
        // The PreSignedUrl is signed for the source region and names the destination, as botocore's.
        let copy = try #require(recorder.requests.first { String(decoding: $0.body, as: UTF8.self).contains("Action=CopyDBSnapshot") })
        let form = URLComponents(string: "http://x/?" + String(decoding: copy.body, as: UTF8.self).replacingOccurrences(of: "+", with: "%20"))
        let presigned = try #require(form?.queryItems?.first { $0.name == "PreSignedUrl" }?.value)
        let inner = try #require(URLComponents(string: presigned)?.queryItems)
        #expect(inner.first { $0.name == "X-Amz-Credential" }?.value?.contains("/\(east)/rds/aws4_request") == true)
        #expect(inner.first { $0.name == "DestinationRegion" }?.value == west)
        #expect(form?.queryItems?.contains { $0.name == "SourceRegion" } == false)
        // The password goes to RDS and nowhere else: not into the presigned URLs of other calls.
        let withPassword = recorder.requests.filter { String(decoding: $0.body, as: UTF8.self).contains("shape-test-pw") }
        #expect(withPassword.count == 1)
    }

    @Test func theCheckerRejectsAWrongListMemberName() throws {
        var bad = QueryParameters()
        bad.set("DBInstanceIdentifier", "db")
        bad.setList("VpcSecurityGroupIds", ["sg-1"])  // botocore serializes VpcSecurityGroupIds.VpcSecurityGroupId.1
        let request = QueryProtocol.request(action: "ModifyDBInstance", version: "2014-10-31", parameters: bad)
        // The checker reads the service from the credential scope only; the signature is not verified.
        var headers = request.headers
        headers.replaceOrAdd("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261126/us-east-1/rds/aws4_request, SignedHeaders=host, Signature=0")
        let http = HTTPRequest(method: "POST", url: "http://127.0.0.1/", headers: headers, body: request.body)
        let verdict = try #require(try checkRequestShapes([http]).first)
        #expect(verdict.operation == "ModifyDBInstance")
        #expect(verdict.problems.count == 1)
        #expect(verdict.problems.first?.contains("VpcSecurityGroupId") == true)
    }
}
