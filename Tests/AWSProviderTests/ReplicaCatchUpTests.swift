@testable import DRCore
import Foundation
import Testing
@testable import AWSProvider

/// `aws.rds.wait-replica-caught-up`, the step a switchover's "no data loss" rests on, against
/// CloudWatch in the test bed with datapoints placed in chosen minutes (the test bed starts
/// GetMetricData periods on whole minutes, as AWS does).
@Suite struct ReplicaCatchUpTests {
    let client: AWSClient

    init() throws {
        client = try TestBed.require().client(throughProxy: false)
    }

    /// The catch-up step of a switchover that started (after its fence was confirmed) `fencedAt`,
    /// polled for at most `seconds`.
    func catchUp(_ instance: String, fencedAt: Date, seconds: Double = 3) async throws -> [String: RunValue] {
        let action = try RDSTestBed.action("aws.rds.wait-replica-caught-up", client: client)
        let invocation = ActionInvocation(runId: TestBed.uniqueName("run"), stepId: "catch-up-db", attempt: 1,
                                          arguments: ["region": .string(RDSTestBed.drRegion), "instance": .string(instance)],
                                          firstStartedAt: fencedAt, deadline: Date().addingTimeInterval(seconds), isResume: false,
                                          services: ActionServices(clock: FastPollClock(), messages: { _ in }))
        return try await action.verify(invocation, acted: [:])
    }

    @Test func onlyADatapointMeasuredAfterTheFenceCountsAsCaughtUp() async throws {
        let instance = TestBed.uniqueName("catchup")
        // Minutes in the recent past, so every datapoint is inside the step's window and none moves on.
        let minute = (Date().timeIntervalSince1970 / 60).rounded(.down) * 60 - 240
        let fencedAt = Date(timeIntervalSince1970: minute + 50)   // 50 s into a minute
        // Lag 0 at :40, ten seconds before the fence: the primary still took writes afterwards.
        try await RDSTestBed.putReplicaLag(client, region: RDSTestBed.drRegion, instance: instance, seconds: 0,
                                           at: Date(timeIntervalSince1970: minute + 40))
        // CloudWatch serves it as the newest point, stamped with the start of its minute (before the
        // fence, as every reading in that minute may be); the catch-up must not take it.
        let served = try await RDSReplicaLag(client: client).latest(region: RDSTestBed.drRegion, instance: instance)
        #expect(served == RDSReplicaLag.Datapoint(timestamp: Date(timeIntervalSince1970: minute), seconds: 0))
        // (The waiter's deadline may also end a request in flight: any error, as long as it is not "caught up".)
        await #expect(throws: (any Error).self) { _ = try await catchUp(instance, fencedAt: fencedAt) }

        // The next minute, all after the fence, still lags: not caught up either.
        try await RDSTestBed.putReplicaLag(client, region: RDSTestBed.drRegion, instance: instance, seconds: 4,
                                           at: Date(timeIntervalSince1970: minute + 70))
        await #expect(throws: (any Error).self) { _ = try await catchUp(instance, fencedAt: fencedAt) }

        // Lag 0 in the minute after that: caught up, and the outputs say which minute proved it.
        try await RDSTestBed.putReplicaLag(client, region: RDSTestBed.drRegion, instance: instance, seconds: 0,
                                           at: Date(timeIntervalSince1970: minute + 130))
        let outputs = try await catchUp(instance, fencedAt: fencedAt, seconds: 60)
        #expect(outputs["lag_seconds"] == .double(0))
        #expect(outputs["measured_at"] == .string(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: minute + 120))))
    }
}
