import Foundation
import Testing
@testable import AWSProvider
@testable import DRCore

extension TestBedSerial {
    /// Route 53 record cutover and health checks through the fault proxy (its counters prove what
    /// was, and was not, called). The test bed's Route 53 answers PENDING and turns INSYNC after
    /// `route53.insync` seconds.
    @Suite
    struct TrafficActionsTests {
        static func action(_ name: String, _ client: AWSClient) throws -> any RunbookAction {
            try #require(TrafficActions.all(client: client).first { $0.name == name })
        }

        static func makeZone(_ route53: Route53Client) async throws -> (id: String, name: String) {
            let name = TestBed.uniqueName("drctl").lowercased() + ".example.test."
            return (try await route53.createHostedZone(name: name, callerReference: TestBed.uniqueName("ref")), name)
        }

        /// The test bed's traffic delays, no faults, a recording client through the proxy, and a new zone.
        static func zoneUnderTest() async throws -> (TestBed, AWSClient, RecordingTransport, Route53Client, (id: String, name: String)) {
            let bed = try TestBed.require()
            try await bed.configureTrafficDelays()
            try await bed.setFaults([])
            let (client, recorder) = bed.recordingClient(throughProxy: true)
            let route53 = Route53Client(client: client)
            return (bed, client, recorder, route53, try await makeZone(route53))
        }

        static func recordArguments(zone: String, name: String, values: [String], ttl: Int = 60) -> [String: RunValue] {
            ["zone_id": .string(zone), "name": .string(name), "type": .string("A"), "ttl": .int(ttl),
             "values": .list(values.map(RunValue.string))]
        }

        @Test func upsertByZoneNameLooksTheZoneUpWhenItRuns() async throws {
            let (bed, client, recorder, route53, zone) = try await Self.zoneUnderTest()
            let appName = "app." + zone.name
            let upsert = try Self.action("aws.route53.upsert-record", client)
            var arguments = Self.recordArguments(zone: zone.id, name: appName, values: ["10.2.0.10"])
            arguments["zone_id"] = nil
            arguments["zone_name"] = .string(String(zone.name.dropLast()))   // without the final dot
            let run = try await StepRun.run(upsert, arguments)
            #expect(run.outputs["status"] == .string("INSYNC"))
            let listed = try await route53.listResourceRecordSets(zoneId: zone.id, name: appName, type: "A")
            #expect(listed.map(\.values) == [["10.2.0.10"]])
            #expect(try await bed.requestCount(service: "route53", operation: "ListHostedZones") == 1)
            // Resumed without the change id: the zone as already looked up, the UPSERT sent again and waited for.
            let again = try await StepRun.run(upsert, arguments, resumed: true)
            #expect(!again.observedDone)
            #expect(again.outputs["status"] == .string("INSYNC"))
            #expect(try await bed.requestCount(service: "route53", operation: "ListHostedZones") == 1)
            // A zone that does not exist fails the step, with its name.
            arguments["zone_name"] = .string("nowhere.example.test.")
            let error = await #expect(throws: ActionError.self) { _ = try await StepRun.run(upsert, arguments) }
            #expect(error?.kind == .permanent)
            #expect(error?.message.contains("no hosted zone named nowhere.example.test.") == true)
            _ = try expectRequestsMatchBotocore(recorder)
        }

        @Test func upsertMovesTheRecordToTheDRValueAndWaitsForInsync() async throws {
            let (bed, client, recorder, route53, zone) = try await Self.zoneUnderTest()
            let appName = "app." + zone.name
            _ = try await route53.changeResourceRecordSets(zoneId: zone.id, records: [
                Route53RecordSet(name: appName, type: "A", ttl: 60, values: ["10.0.0.10"]),
            ])
            let upsert = try Self.action("aws.route53.upsert-record", client)
            let arguments = Self.recordArguments(zone: zone.id, name: appName, values: ["10.1.0.10", "10.1.0.11"])
            let started = Date()
            let run = try await StepRun.run(upsert, arguments)
            #expect(!run.observedDone)
            #expect(run.outputs["status"] == .string("INSYNC"))
            #expect(run.outputs["change_id"]?.stringValue?.isEmpty == false)
            #expect(Date().timeIntervalSince(started) >= TestBed.insyncDelay)
            let listed = try await route53.listResourceRecordSets(zoneId: zone.id, name: appName, type: "A")
            #expect(listed.map { Set($0.values) } == [["10.1.0.10", "10.1.0.11"]])
            #expect(try await bed.requestCount(service: "route53", operation: "GetChange") >= 1)

            // Resumed without the change id (the act's outcome was not journaled): the record is listed
            // at once, but only a change's id tells INSYNC, so the same UPSERT goes again and is waited for.
            try await bed.setFaults([])
            let resumedAt = Date()
            let again = try await StepRun.run(upsert, Self.recordArguments(zone: zone.id, name: appName, values: ["10.1.0.11", "10.1.0.10"]),
                                              resumed: true)
            #expect(!again.observedDone)
            #expect(again.outputs["status"] == .string("INSYNC"))
            #expect(Date().timeIntervalSince(resumedAt) >= TestBed.insyncDelay)
            #expect(try await bed.requestCount(service: "route53", operation: "ChangeResourceRecordSets") == 1)

            // Resumed after a journaled act: no second change, the journaled id is waited for.
            let pending = try await route53.changeResourceRecordSets(zoneId: zone.id, records: [
                Route53RecordSet(name: appName, type: "A", ttl: 60, values: ["10.1.0.12"]),
            ])
            try await bed.setFaults([])
            let journaledAt = Date()
            let verified = try await upsert.verify(
                ActionInvocation(runId: "run", stepId: "dns", attempt: 2, arguments: Self.recordArguments(zone: zone.id, name: appName, values: ["10.1.0.12"]),
                                 firstStartedAt: journaledAt, deadline: journaledAt.addingTimeInterval(60), isResume: true,
                                 services: ActionServices(messages: { _ in })),
                acted: ["change_id": .string(pending.id), "status": .string(pending.status), "zone_id": .string(zone.id)])
            #expect(verified["change_id"] == .string(pending.id))
            #expect(verified["status"] == .string("INSYNC"))
            #expect(try await bed.requestCount(service: "route53", operation: "ChangeResourceRecordSets") == 0)

            let operations = try expectRequestsMatchBotocore(recorder)
            #expect(operations.isSuperset(of: ["CreateHostedZone", "ChangeResourceRecordSets", "ListResourceRecordSets", "GetChange"]))
        }

        @Test func failoverRecordsAreUpsertedWithSetIdentifiers() async throws {
            let (_, client, recorder, route53, zone) = try await Self.zoneUnderTest()
            let appName = "api." + zone.name
            let upsert = try Self.action("aws.route53.upsert-record", client)
            for (identifier, role, value) in [("use1", "PRIMARY", "10.0.0.20"), ("usw2", "SECONDARY", "10.1.0.20")] {
                var arguments = Self.recordArguments(zone: zone.id, name: appName, values: [value], ttl: 30)
                arguments["set_identifier"] = .string(identifier)
                arguments["failover"] = .string(role)
                let run = try await StepRun.run(upsert, arguments)
                #expect(run.outputs["status"] == .string("INSYNC"))
            }
            let listed = try await route53.listResourceRecordSets(zoneId: zone.id, name: appName, type: "A")
            #expect(Set(listed.map { "\($0.setIdentifier ?? "-") \($0.failover ?? "-") \($0.values)" })
                    == ["use1 PRIMARY [\"10.0.0.20\"]", "usw2 SECONDARY [\"10.1.0.20\"]"])
            try expectRequestsMatchBotocore(recorder)
        }

        @Test func upsertSucceedsThroughThrottlingOnChangeResourceRecordSets() async throws {
            let bed = try TestBed.require()
            try await bed.configureTrafficDelays()
            try await bed.setFaults([])
            let (client, _) = bed.recordingClient(throughProxy: true)
            let route53 = Route53Client(client: client)
            let zone = try await Self.makeZone(route53)
            try await bed.setFaults([["service": "route53", "operation": "ChangeResourceRecordSets", "fault": "throttle", "times": 2]])
            let run = try await StepRun.run(try Self.action("aws.route53.upsert-record", client),
                                            Self.recordArguments(zone: zone.id, name: "app." + zone.name, values: ["10.1.0.30"]))
            #expect(run.outputs["status"] == .string("INSYNC"))
            #expect(try await bed.requestCount(service: "route53", operation: "ChangeResourceRecordSets") == 3)
            try await bed.setFaults([])
        }

        @Test func healthCheckStatusReportsTheCheckers() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let (client, recorder) = bed.recordingClient(throughProxy: true)
            let id = try await Route53Client(client: client).createHealthCheck(ipAddress: "192.0.2.10", port: 443, path: "/healthz",
                                                                                callerReference: TestBed.uniqueName("hc"))
            let run = try await StepRun.run(try Self.action("aws.route53.health-check-status", client), ["health_check_id": .string(id)])
            #expect(run.outputs["healthy"] == .bool(true))
            guard case .list(let checkers)? = run.outputs["checkers"] else { Issue.record("no checkers output"); return }
            #expect(!checkers.isEmpty)
            #expect(try await bed.requestCount(service: "route53", operation: "GetHealthCheckStatus") == 1)
            try expectRequestsMatchBotocore(recorder)
        }
    }
}

/// The Route 53 ARC data path against Fixtures/arc_stub.py (moto has no route53-recovery-cluster),
/// and the parts of the traffic actions that need no network.
@Suite
struct RoutingControlActionTests {
    static let arn = "arn:aws:route53-recovery-control::123456789012:controlpanel/abc/routingcontrol/usw2"

    @Test func setRoutingControlSkipsADeadEndpointAndUsesTheNext() async throws {
        let bed = try TestBed.require()
        let stub = try ARCStub(controls: [Self.arn: "Off"])
        defer { stub.stop() }
        let dead = "http://127.0.0.1:\(try closedLoopbackPort())/v1"
        let (client, recorder) = bed.recordingClient()
        let action = try #require(TrafficActions.all(client: client).first { $0.name == "aws.arc.set-routing-control" })
        let arguments: [String: RunValue] = [
            "routing_control_arn": .string(Self.arn), "state": .string("On"),
            "cluster_endpoints": .list([.map(["endpoint": .string(dead), "region": .string("us-east-1")]),
                                        .map(["endpoint": .string(stub.endpointURL), "region": .string("us-west-2")])]),
        ]
        let run = try await StepRun.run(action, arguments)
        #expect(!run.observedDone)
        #expect(run.outputs["endpoint_used"] == .string(stub.endpointURL))
        #expect(try await stub.calls()["UpdateRoutingControlState"] == 1)

        // Resumed and already On: observed, no second update.
        let again = try await StepRun.run(action, arguments, resumed: true)
        #expect(again.observedDone)
        #expect(try await stub.calls()["UpdateRoutingControlState"] == 1)
        // The requests the stub accepted (it validates them too) also match the model here.
        let operations = try expectRequestsMatchBotocore(recorder)
        #expect(operations == ["GetRoutingControlState", "UpdateRoutingControlState"])
        #expect(recorder.requests.contains { $0.url.hasPrefix(dead) })
        #expect(recorder.requests.allSatisfy { $0.headers["authorization"]?.contains("/us-west-2/route53-recovery-cluster/") == true
                                               || $0.url.hasPrefix(dead) })
    }

    @Test func setRoutingControlFailsWhenNoEndpointAnswers() async throws {
        let bed = try TestBed.require()
        let client = bed.client(throughProxy: false)
        let action = try #require(TrafficActions.all(client: client).first { $0.name == "aws.arc.set-routing-control" })
        let error = await #expect(throws: ActionError.self) {
            try await StepRun.run(action, ["routing_control_arn": .string(Self.arn), "state": .string("On"), "cluster_endpoints": .list([
                .map(["endpoint": .string("http://127.0.0.1:\(try closedLoopbackPort())"), "region": .string("us-west-2")]),
            ])])
        }
        #expect(error?.kind == .transient)
        #expect(error?.message.contains("no Route 53 ARC cluster endpoint answered") == true)
    }

    @Test func setRoutingControlRejectsAnUnknownState() async throws {
        let bed = try TestBed.require()
        let action = try #require(TrafficActions.all(client: bed.client(throughProxy: false)).first { $0.name == "aws.arc.set-routing-control" })
        let error = await #expect(throws: ActionError.self) {
            try await StepRun.run(action, ["routing_control_arn": .string(Self.arn), "state": .string("on"),
                                           "cluster_endpoints": .list([.map(["endpoint": .string("http://127.0.0.1:1"), "region": .string("us-west-2")])])])
        }
        #expect(error?.kind == .permanent)
    }

    @Test func upsertDescribesItsCallsAndTheUsEast1Dependency() throws {
        let bed = try TestBed.require()
        let actions = TrafficActions.all(client: bed.client(throughProxy: false))
        let upsert = try #require(actions.first { $0.name == "aws.route53.upsert-record" })
        let text = upsert.describe(["zone_id": .string("Z1"), "name": .string("app.example.com"), "type": .string("A"),
                                    "ttl": .int(60), "values": .list([.string("10.1.0.10")])])
        #expect(text.contains("ChangeResourceRecordSets UPSERT"))
        #expect(text.contains("GetChange"))
        #expect(text.contains("us-east-1"))
        let arc = try #require(actions.first { $0.name == "aws.arc.set-routing-control" })
        #expect(arc.describe(["state": .string("On")]).contains("UpdateRoutingControlState"))
    }

    @Test func healthIsDecidedByMoreThanEighteenPercentOfCheckers() {
        let healthy = Route53HealthObservation(region: "us-east-1", ipAddress: "1", status: "Success: HTTP Status Code 200, OK")
        let failing = Route53HealthObservation(region: "eu-west-1", ipAddress: "2", status: "Failure: Connection timed out")
        #expect(HealthCheckStatusAction.isHealthy([healthy] + Array(repeating: failing, count: 4)))
        #expect(!HealthCheckStatusAction.isHealthy([healthy] + Array(repeating: failing, count: 5)))
        #expect(!HealthCheckStatusAction.isHealthy([]))
    }
}
