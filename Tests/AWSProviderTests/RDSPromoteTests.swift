@testable import DRCore
import Foundation
import Testing
@testable import AWSProvider

extension TestBedSerial {
    /// Promotion through the fault proxy, which counts every call.
    @Suite struct RDSPromoteTests {
        let bed: TestBed
        let client: AWSClient
        let rds: RDSClient

        init() async throws {
            bed = try TestBed.require()
            client = bed.client(throughProxy: true, maxAttempts: 5)
            rds = RDSClient(client: client)
            try await RDSTestBed.useShortDelays(bed)
        }

        @Test func promotionDetachesTheReplicaAndAResumedPromotionCallsPromoteOnlyOnce() async throws {
            let (primary, replica) = try await RDSTestBed.primaryWithReplica(rds, prefix: "promote")
            #expect(replica.readReplicaSource != nil)
            try await bed.setFaults([])
            let promote = try RDSTestBed.action("aws.rds.promote-read-replica", client: client)
            let arguments: [String: RunValue] = ["region": .string(RDSTestBed.drRegion), "instances": .list([.string(replica.identifier)]),
                                                 "backup_retention_days": .int(7)]
            let before = try await bed.operations(service: "rds").count
            let first = try await RDSTestBed.run(promote, RDSTestBed.invocation(arguments, runId: "r1", stepId: "promote"))
            #expect(!first.observed)
            // A first try promotes without describing the replica first: the call is its own check.
            let requests = try await bed.operations(service: "rds").dropFirst(before)
            #expect(requests.first == "PromoteReadReplica", "\(requests)")
            #expect(first.outputs["promoted"] == .list([.string(replica.identifier)]))
            guard case .map(let endpoints)? = first.outputs["endpoints"] else { Issue.record("no endpoints"); return }
            #expect(endpoints[replica.identifier]?.stringValue?.contains(":") == true)

            let promoted = try #require(try await rds.findDBInstance(region: RDSTestBed.drRegion, identifier: replica.identifier))
            #expect(promoted.status == "available")
            #expect(promoted.isStandalone)
            #expect(promoted.backupRetentionPeriod == 7)
            let source = try await rds.findDBInstance(region: RDSTestBed.primaryRegion, identifier: primary.identifier)
            #expect(source?.readReplicas.contains { $0.hasSuffix(replica.identifier) } == false)

            // The run resumed after a crash: observe finds the promotion done, nothing is called again.
            let resumed = try await RDSTestBed.run(promote, RDSTestBed.invocation(arguments, runId: "r1", stepId: "promote", resumed: true))
            #expect(resumed.observed)
            #expect(resumed.outputs["promoted"] == first.outputs["promoted"])
            #expect(try await bed.requestCount(service: "rds", operation: "PromoteReadReplica") == 1)
        }

        @Test func actingAgainDuringAPromotionWaitsInsteadOfCallingAgain() async throws {
            let (_, replica) = try await RDSTestBed.primaryWithReplica(rds, prefix: "inflight")
            try await bed.setFaults([])
            let promote = try RDSTestBed.action("aws.rds.promote-read-replica", client: client)
            let invocation = RDSTestBed.invocation(["region": .string(RDSTestBed.drRegion), "instances": .list([.string(replica.identifier)])])
            let acted = try await promote.act(invocation)
            #expect(acted["requested"] == .list([.string(replica.identifier)]))
            // Crash right after the call: the resumed attempt observes (not done yet), then acts again.
            let resumed = RDSTestBed.invocation(invocation.arguments, runId: invocation.runId, resumed: true)
            #expect(try await promote.observe(resumed) == nil)
            let again = try await promote.act(resumed)
            #expect(again["requested"] == .list([]))
            _ = try await promote.verify(resumed, acted: again)
            #expect(try await bed.requestCount(service: "rds", operation: "PromoteReadReplica") == 1)
        }

        @Test func promotionSucceedsDespiteThrottling() async throws {
            let (_, replica) = try await RDSTestBed.primaryWithReplica(rds, prefix: "throttled")
            try await bed.setFaults([
                ["service": "rds", "operation": "PromoteReadReplica", "fault": "throttle", "times": 2],
                ["service": "rds", "operation": "DescribeDBInstances", "fault": "throttle", "probability": 0.3],
            ])
            let promote = try RDSTestBed.action("aws.rds.promote-read-replica", client: client)
            // The rules are cleared before the test ends whatever happens (not by a task left running,
            // which could clear the next test's rules).
            let run = await Result.catching {
                try await RDSTestBed.run(promote, RDSTestBed.invocation(
                    ["region": .string(RDSTestBed.drRegion), "instances": .list([.string(replica.identifier)])]))
            }
            let counted = await Result.catching { try await bed.requestCount(service: "rds", operation: "PromoteReadReplica") }
            try await bed.setFaults([])
            let outputs = try run.get().outputs
            #expect(outputs["promoted"] == .list([.string(replica.identifier)]))
            #expect(try counted.get() == 3)
            let after = try await rds.findDBInstance(region: RDSTestBed.drRegion, identifier: replica.identifier)
            #expect(after?.isStandalone == true)
        }

        @Test func fencingARegionAnsweringOnly5xxReportsUnconfirmed() async throws {
            try await bed.setFaults([["service": "rds", "operation": "*", "fault": "error5xx", "status": 503]])
            let fence = try RDSTestBed.action("aws.rds.fence-instance", client: bed.client(throughProxy: true, maxAttempts: 2))
            let arguments: [String: RunValue] = ["region": .string(RDSTestBed.primaryRegion), "instance": .string("old-primary"),
                                                 "method": .string("stop")]
            func stops() async -> Result<Int, any Error> {
                await Result.catching { try await bed.requestCount(service: "rds", operation: "StopDBInstance") }
            }
            // A first try calls StopDBInstance at once; a retry observes first (DescribeDBInstances, 503 too).
            let first = await Result.catching { try await RDSTestBed.run(fence, RDSTestBed.invocation(arguments)) }
            let stopsAfterFirst = await stops()
            let retried = await Result.catching { try await RDSTestBed.run(fence, RDSTestBed.invocation(arguments, resumed: true)) }
            let stopsAfterRetry = await stops()
            try await bed.setFaults([])   // before any expectation can throw
            for run in [first, retried] {
                let outputs = try run.get().outputs
                #expect(outputs["confirmed"] == .bool(false))
                #expect(outputs["fenced"] == .bool(false))
                #expect(outputs["reason"]?.stringValue?.contains("ServiceUnavailable") == true)
            }
            #expect(try stopsAfterFirst.get() == 2)   // both attempts of the client's retry answered 503
            #expect(try stopsAfterRetry.get() == 2)
        }

        @Test func globalClusterFailoverAnswered500MapsToATransientError() async throws {
            try await bed.setFaults([])
            let failover = try RDSTestBed.action("aws.rds.failover-global-cluster", client: bed.client(throughProxy: true, maxAttempts: 2))
            let error = await #expect(throws: ActionError.self) {
                _ = try await failover.act(RDSTestBed.invocation(
                    ["region": .string(RDSTestBed.drRegion), "global_cluster": .string("app-global"),
                     "target_cluster_arn": .string("arn:aws:rds:us-west-2:123456789012:cluster:app-dr"), "allow_data_loss": .bool(true)]))
            }
            #expect(error?.kind == .transient)
            #expect(error?.message.contains("FailoverGlobalCluster") == true)
            #expect(error?.message.contains("<html") == false)
        }
    }
}
