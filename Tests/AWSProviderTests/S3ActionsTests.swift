import Foundation
import Testing
@testable import AWSProvider
@testable import DRCore

/// The S3 replication actions against the test bed's moto, whose replication copies objects after
/// `s3.replication_delay` and reports PENDING → COMPLETED (FAILED without a versioned destination).
@Suite
struct S3ActionsTests {
    struct Pair {
        let source: String
        let destination: String
    }

    static func action(_ name: String, _ client: AWSClient) throws -> any RunbookAction {
        try #require(S3Actions.all(client: client).first { $0.name == name })
    }

    /// Source in us-east-1, destination in us-west-2, both versioned unless told otherwise, one
    /// whole-bucket rule.
    static func makePair(_ s3: S3Client, storageClass: String? = "STANDARD_IA", destinationVersioning: Bool = true,
                         rule: Bool = true) async throws -> Pair {
        let pair = Pair(source: TestBed.uniqueName("drctl-src"), destination: TestBed.uniqueName("drctl-dst"))
        try await s3.createBucket(pair.source, region: "us-east-1")
        try await s3.createBucket(pair.destination, region: "us-west-2")
        try await s3.putBucketVersioning(bucket: pair.source, enabled: true, region: "us-east-1")
        if destinationVersioning { try await s3.putBucketVersioning(bucket: pair.destination, enabled: true, region: "us-west-2") }
        if rule {
            let configuration = S3ReplicationConfiguration(role: "arn:aws:iam::123456789012:role/drctl-replication", rules: [
                .init(id: "whole-bucket", destinationBucketARN: "arn:aws:s3:::\(pair.destination)", storageClass: storageClass),
            ])
            try await s3.putBucketReplication(bucket: pair.source, configuration: configuration, region: "us-east-1")
        }
        return pair
    }

    static func checkArguments(_ pair: Pair, storageClass: String? = nil) -> [String: RunValue] {
        var arguments: [String: RunValue] = ["region": .string("us-east-1"), "bucket": .string(pair.source),
                                             "destination_bucket": .string(pair.destination), "destination_region": .string("us-west-2")]
        if let storageClass { arguments["storage_class"] = .string(storageClass) }
        return arguments
    }

    static func problems(_ outputs: [String: RunValue]) -> [String] {
        guard case .list(let items)? = outputs["problems"] else { return ["<no problems output>"] }
        return items.map(\.description)
    }

    @Test func checkReplicationIsOkForAVersionedPairWithAWholeBucketRule() async throws {
        let bed = try TestBed.require()
        let (client, recorder) = bed.recordingClient()
        let pair = try await Self.makePair(S3Client(client: client))
        let run = try await StepRun.run(try Self.action("aws.s3.check-replication", client), Self.checkArguments(pair, storageClass: "STANDARD_IA"))
        #expect(Self.problems(run.outputs) == [])
        #expect(run.outputs["ok"] == .bool(true))
        #expect(run.outputs["rule_id"] == .string("whole-bucket"))
        let operations = try expectRequestsMatchBotocore(recorder)
        #expect(operations.isSuperset(of: ["CreateBucket", "PutBucketVersioning", "PutBucketReplication", "GetBucketReplication",
                                           "GetBucketVersioning", "HeadBucket", "GetBucketLocation"]))
    }

    @Test func checkReplicationReportsABucketWithoutRules() async throws {
        let bed = try TestBed.require()
        let client = bed.client(throughProxy: false)
        let pair = try await Self.makePair(S3Client(client: client), rule: false)
        let run = try await StepRun.run(try Self.action("aws.s3.check-replication", client), Self.checkArguments(pair))
        #expect(run.outputs["ok"] == .bool(false))
        #expect(run.outputs["rule_id"] == .null)
        #expect(Self.problems(run.outputs) == ["bucket \(pair.source) has no replication configuration"])
    }

    @Test func checkReplicationReportsTheWrongStorageClass() async throws {
        let bed = try TestBed.require()
        let client = bed.client(throughProxy: false)
        let pair = try await Self.makePair(S3Client(client: client), storageClass: "STANDARD")
        let run = try await StepRun.run(try Self.action("aws.s3.check-replication", client), Self.checkArguments(pair, storageClass: "GLACIER_IR"))
        #expect(run.outputs["ok"] == .bool(false))
        #expect(Self.problems(run.outputs) == ["rule whole-bucket replicates as STANDARD, the plan says GLACIER_IR"])
    }

    @Test func checkReplicationReportsADestinationWithoutVersioning() async throws {
        let bed = try TestBed.require()
        let client = bed.client(throughProxy: false)
        let pair = try await Self.makePair(S3Client(client: client), destinationVersioning: false)
        let run = try await StepRun.run(try Self.action("aws.s3.check-replication", client), Self.checkArguments(pair))
        #expect(run.outputs["ok"] == .bool(false))
        #expect(Self.problems(run.outputs) == ["destination bucket \(pair.destination) has versioning never enabled, replication needs Enabled"])
    }

    @Test func checkReplicationReportsAMissingDestinationAndAWrongRegion() async throws {
        let bed = try TestBed.require()
        let client = bed.client(throughProxy: false)
        let pair = try await Self.makePair(S3Client(client: client))
        var arguments = Self.checkArguments(pair)
        arguments["destination_region"] = .string("eu-west-1")
        let wrongRegion = try await StepRun.run(try Self.action("aws.s3.check-replication", client), arguments)
        #expect(Self.problems(wrongRegion.outputs) == ["destination bucket \(pair.destination) is in us-west-2, not eu-west-1"])
        arguments = Self.checkArguments(Pair(source: pair.source, destination: TestBed.uniqueName("drctl-gone")))
        let missing = try await StepRun.run(try Self.action("aws.s3.check-replication", client), arguments)
        #expect(missing.outputs["ok"] == .bool(false))
        #expect(Self.problems(missing.outputs).contains { $0.hasPrefix("no replication rule of \(pair.source) targets") })
        #expect(Self.problems(missing.outputs).contains { $0.hasSuffix("does not exist") })
    }

    @Test func canaryLatencyIsAtLeastTheReplicationDelay() async throws {
        let bed = try TestBed.require()
        try await bed.configureTrafficDelays()
        let (client, recorder) = bed.recordingClient()
        let pair = try await Self.makePair(S3Client(client: client))
        let run = try await StepRun.run(try Self.action("aws.s3.replication-canary", client),
                                        ["region": .string("us-east-1"), "bucket": .string(pair.source),
                                         "destination_bucket": .string(pair.destination), "destination_region": .string("us-west-2")],
                                        stepId: "canary", runId: "run-42")
        #expect(run.outputs["key"] == .string("drctl-canary/run-42-canary"))
        let latency = try #require(run.outputs["latency_seconds"]?.secondsValue)
        #expect(latency >= TestBed.replicationDelay)
        #expect(latency < TestBed.replicationDelay + 10)
        let replica = try await S3Client(client: client).headObject(bucket: pair.destination, key: "drctl-canary/run-42-canary", region: "us-west-2")
        #expect(replica.replicationStatus == "REPLICA")
        let operations = try expectRequestsMatchBotocore(recorder)
        #expect(operations.isSuperset(of: ["PutObject", "HeadObject"]))
    }

    @Test func canaryFailsWhenReplicationFails() async throws {
        let bed = try TestBed.require()
        try await bed.configureTrafficDelays()
        let client = bed.client(throughProxy: false)
        let pair = try await Self.makePair(S3Client(client: client), destinationVersioning: false)
        let error = await #expect(throws: ActionError.self) {
            try await StepRun.run(try Self.action("aws.s3.replication-canary", client),
                                  ["region": .string("us-east-1"), "bucket": .string(pair.source),
                                   "destination_bucket": .string(pair.destination), "destination_region": .string("us-west-2")])
        }
        #expect(error?.kind == .permanent)
        #expect(error?.message.contains("FAILED") == true)
    }

    @Test func backlogCountsPendingRightAfterWritesAndNoneAfterTheDelay() async throws {
        let bed = try TestBed.require()
        try await bed.configureTrafficDelays()
        let (client, recorder) = bed.recordingClient()
        let s3 = S3Client(client: client)
        let pair = try await Self.makePair(s3)
        // Keys without "/": the test bed's moto rejects a correctly signed "%2F" in a query value
        // (boto3 gets SignatureDoesNotMatch for Prefix="orders/" too).
        for index in 0..<3 {
            try await s3.putObject(bucket: pair.source, key: "orders-\(index).json", body: Array("{}".utf8), region: "us-east-1")
        }
        let backlog = try Self.action("aws.s3.replication-backlog", client)
        let arguments: [String: RunValue] = ["region": .string("us-east-1"), "bucket": .string(pair.source), "prefix": .string("orders-"), "sample": .int(10)]
        let before = try await StepRun.run(backlog, arguments)
        #expect(before.outputs["sampled"] == .int(3))
        #expect(before.outputs["pending"] == .int(3))
        #expect(before.outputs["failed"] == .int(0))
        #expect((before.outputs["oldest_pending_age_seconds"]?.secondsValue ?? -1) >= 0)
        try await Task.sleep(for: .seconds(TestBed.replicationDelay + 1.5))
        let after = try await StepRun.run(backlog, arguments)
        #expect(after.outputs["pending"] == .int(0))
        #expect(after.outputs["completed"] == .int(3))
        #expect(after.outputs["oldest_pending_age_seconds"] == .double(0))
        let operations = try expectRequestsMatchBotocore(recorder)
        #expect(operations.contains("ListObjectsV2"))
    }

    @Test func backlogSamplesOnlyTheNewestObjectsAcrossPages() async throws {
        let bed = try TestBed.require()
        let client = bed.client(throughProxy: false)
        let s3 = S3Client(client: client)
        let pair = try await Self.makePair(s3)
        for index in 0..<5 {
            try await s3.putObject(bucket: pair.source, key: "k\(index)", body: [1], region: "us-east-1")
        }
        let listed = try await s3.listObjectsV2(bucket: pair.source, region: "us-east-1", pageSize: 2)
        #expect(listed.map(\.key).sorted() == ["k0", "k1", "k2", "k3", "k4"])
        let run = try await StepRun.run(try Self.action("aws.s3.replication-backlog", client),
                                        ["region": .string("us-east-1"), "bucket": .string(pair.source), "sample": .int(2)])
        #expect(run.outputs["sampled"] == .int(2))
    }
}
