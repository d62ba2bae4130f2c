@testable import DRCore
import Foundation
import Testing
@testable import AWSProvider

/// Shared by the RDS suites: the test bed's RDS timings, a primary with a cross-region replica,
/// and the engine's observe → act → verify sequence for one step.
enum RDSTestBed {
    static let primaryRegion = "us-east-1"
    static let drRegion = "us-west-2"

    /// Short but non-zero transitions so waiters really wait (moto alone is `available` at once).
    static func useShortDelays(_ bed: TestBed) async throws {
        let delays: [String: Any] = ["creating": 0.4, "modifying": 0.4, "backing_up": 0.3, "snapshot": 0.4, "copy": 0.4,
                                     "promote": 0.8, "rebooting": 0.3, "stopping": 0.3, "starting": 0.3, "deleting": 0.3]
        let body = try JSONSerialization.data(withJSONObject: ["rds": delays])
        let transport = CurlTransport(configuration: .init(proxy: ProxySettings()))
        let response = try await transport.send(HTTPRequest(method: "POST", url: bed.motoURL + "/_testbed/config",
                                                            headers: ["Content-Type": "application/json"], body: Array(body)))
        #expect(response.status == 200)
    }

    static func waiters(_ rds: RDSClient) -> RDSWaiters {
        RDSWaiters(rds: rds, minimumDelay: 0.2, maximumDelay: 1)
    }

    /// A primary in us-east-1 and its replica in us-west-2, both waited for until available.
    static func primaryWithReplica(_ rds: RDSClient, prefix: String) async throws -> (primary: DBInstance, replica: DBInstance) {
        let name = TestBed.uniqueName(prefix)
        let deadline = Date().addingTimeInterval(60)
        let primary = try await standalone(rds, name: name + "-primary")
        _ = try await rds.createDBInstanceReadReplica(region: drRegion, identifier: name + "-replica", source: try #require(primary.arn),
                                                      sourceRegion: primaryRegion, instanceClass: "db.t3.micro")
        let replica = try await waiters(rds).instanceAvailable(region: drRegion, identifier: name + "-replica", until: deadline)
        return (primary, replica)
    }

    /// An available PostgreSQL instance in the primary region, without replicas.
    static func standalone(_ rds: RDSClient, name: String) async throws -> DBInstance {
        let created = try await rds.createDBInstance(region: primaryRegion, .init(
            identifier: name, instanceClass: "db.t3.micro", engine: "postgres", masterUsername: "drctl",
            masterUserPassword: "not-a-secret-\(UInt32.random(in: 0...UInt32.max))", allocatedStorage: 20, backupRetentionPeriod: 1))
        return try await waiters(rds).instanceAvailable(region: primaryRegion, identifier: created.identifier, until: Date().addingTimeInterval(60))
    }

    /// `resumed`: the attempt follows a crash (or is a retry): mutating actions observe first then.
    static func invocation(_ arguments: [String: RunValue], runId: String = TestBed.uniqueName("run"), stepId: String = "step",
                           timeout: Double = 60, resumed: Bool = false) -> ActionInvocation {
        ActionInvocation(runId: runId, stepId: stepId, attempt: 1, arguments: arguments, firstStartedAt: Date(),
                         deadline: Date().addingTimeInterval(timeout), isResume: resumed,
                         services: ActionServices(clock: FastPollClock(), messages: { _ in }))
    }

    /// What the step runner does for a mutating step: observe, else act then verify.
    static func run(_ action: any RunbookAction, _ invocation: ActionInvocation) async throws -> (observed: Bool, outputs: [String: RunValue]) {
        try await ActionCalls.checkingPermissions(of: action) {
            if action.isMutating, let observed = try await action.observe(invocation) { return (true, observed) }
            let acted = action.isMutating ? try await action.act(invocation) : [:]
            return (false, try await action.verify(invocation, acted: acted))
        }
    }

    static func action(_ name: String, client: AWSClient) throws -> any RunbookAction {
        try #require(RDSActions.all(client: client).first { $0.name == name })
    }

    /// A CloudWatch datapoint as RDS would publish it (test-only: drctl never writes metrics),
    /// stamped `at` (now unless a test places it in a chosen minute).
    static func putReplicaLag(_ client: AWSClient, region: String, instance: String, seconds: Double, at: Date = Date()) async throws {
        var parameters = QueryParameters()
        parameters.set("Namespace", "AWS/RDS")
        parameters.set("MetricData.member.1.MetricName", "ReplicaLag")
        parameters.set("MetricData.member.1.Dimensions.member.1.Name", "DBInstanceIdentifier")
        parameters.set("MetricData.member.1.Dimensions.member.1.Value", instance)
        parameters.set("MetricData.member.1.Value", String(seconds))
        parameters.set("MetricData.member.1.Unit", "Seconds")
        parameters.set("MetricData.member.1.Timestamp", ISO8601DateFormatter().string(from: at))
        let request = QueryProtocol.request(action: "PutMetricData", version: AWSServiceDescriptor.cloudWatch.apiVersion, parameters: parameters)
        _ = try await client.send(request, service: .cloudWatch, region: region)
    }
}

/// Real time, but polls shortly: the engine clock the actions' waiters use in tests.
struct FastPollClock: EngineClock {
    func now() -> Date { Date() }
    func sleep(seconds: Double) async throws {
        try await Task.sleep(for: .milliseconds(Int64(min(seconds, 0.5) * 1000)))
    }
}

