import DRCore
import Foundation
import Testing

/// What a failover does when fencing the old primary, or something after it, goes wrong: it never
/// says "succeeded" without a promoted primary and traffic on it, it stops before promotion when
/// the fence fails for a reason other than an unreachable region, and after the point of no return
/// it drives on to a writable primary. Nested in the serialized failover suite: the tests share the
/// CLI's fault proxy. scripts/test.sh runs this suite against a test bed of its own, beside the rest.
extension FailoverCommandTests {
    @Suite("Failover: a fence, or a step after it, that goes wrong")
    struct Fence {
        static func replica(_ state: [String: Any]) -> [String: Any] { state["replica"] as? [String: Any] ?? [:] }
        static func record(_ state: [String: Any], _ bed: Bed) -> [String]? {
            (state["records"] as? [String: [String]])?["app.\(bed.prefix).example.com."]
        }

        /// The calls that changed something, by operation; a move stopped by its preflight makes none.
        func mutations(_ bed: Bed) async throws -> [String: Int] {
            var made: [String: Int] = [:]
            for (service, operation) in [("rds", "StopDBInstance"), ("rds", "ModifyDBInstance"), ("rds", "RebootDBInstance"),
                                         ("rds", "PromoteReadReplica"), ("route53", "ChangeResourceRecordSets"),
                                         ("eks", "UpdateNodegroupConfig"), ("secretsmanager", "StopReplicationToReplica")] {
                let count = try await bed.calls(service, operation)
                if count > 0 { made[operation] = count }
            }
            return made
        }

        @Test func aFenceDeniedByIAMStopsTheMoveBeforePromotion() async throws {
            let bed = try Bed.make()
            try bed.setUp()
            try await bed.resetProxy()
            try await bed.control("POST", "/_faults", ["rules": [[
                "service": "rds", "operation": "ModifyDBInstance", "fault": "error5xx", "status": 403, "code": "AccessDenied",
                "message": "User: arn:aws:iam::123456789012:user/oncall is not authorized to perform: rds:ModifyDBInstance",
            ]]])
            let result = try bed.drctl(bed.failoverArguments())
            try await bed.resetProxy()
            let output = result.stdout + result.stderr
            #expect(result.status == 1, "\(output)")
            let state = try bed.inspect()
            #expect(Self.replica(state)["source"] is String, "promoted past a fence that failed: \(state)")
            #expect(Self.record(state, bed) == ["app-use1.\(bed.prefix).example.com."])
            // Without a terminal nobody can be asked: the way on is a deliberate resume.
            #expect(output.contains("--tolerate fence-db1"), "\(output)")
            #expect(output.contains("fence-db1: NOT fenced"), "\(output)")
            #expect(!result.stdout.contains("RTO measured"), "\(result.stdout)")
            #expect(!result.stdout.contains(": succeeded"), "\(result.stdout)")
        }

        @Test func aFenceThrottledThreeTimesIsRetriedAndTheMoveCompletes() async throws {
            let bed = try Bed.make()
            try bed.setUp()
            try await bed.resetProxy()
            // Three throttles use up the client's three attempts: the step's retry policy takes over.
            try await bed.control("POST", "/_faults", ["rules": [["service": "rds", "operation": "ModifyDBInstance", "fault": "throttle", "times": 3]]])
            let result = try bed.drctl(bed.failoverArguments())
            try await bed.resetProxy()
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            let state = try bed.inspect()
            #expect((state["primary"] as? [String: Any])?["security_groups"] as? [String] == [Bed.isolatingGroup])
            #expect(Self.replica(state)["source"] == nil || Self.replica(state)["source"] is NSNull, "\(state)")
            #expect(Self.record(state, bed) == ["app-usw2.\(bed.prefix).example.com."])
            #expect(result.stdout.contains("fence-db1: confirmed"), "\(result.stdout)")
            #expect(result.stdout.contains("RTO measured"))
        }

        @Test func stoppingAPrimaryThatHasReplicasIsBlockedByThePreflight() async throws {
            let bed = try Bed.make()
            try bed.setUp(fence: "stop")
            try await bed.resetProxy()
            let result = try bed.drctl(bed.failoverArguments())
            #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stderr.contains("RDS cannot stop \(bed.prefix)-primary: it has read replicas"), "\(result.stderr)")
            #expect(result.stderr.contains("security-group"), "\(result.stderr)")
            #expect(try await mutations(bed) == [:])
            #expect(Self.replica(try bed.inspect())["source"] is String)
        }

        @Test func stoppingAPrimaryThatHasReplicasWithoutThePreflightStopsBeforePromotion() async throws {
            let bed = try Bed.make()
            try bed.setUp(fence: "stop")
            // The generated runbook run on its own (`drctl run`): no preflight stands in the way.
            let printed = try bed.drctl(["failover", "--to", "us-west-2", "--plan", bed.planPath, "--print-runbook"])
            #expect(printed.status == 0, "\(printed.stderr)")
            try bed.home.write("failover.yaml", printed.stdout)
            try await bed.resetProxy()
            let result = try bed.drctl(["run", bed.home.url.appendingPathComponent("failover.yaml").path, "--state", bed.statePath, "--yes"])
            let output = result.stdout + result.stderr
            #expect(result.status == 1, "\(output)")
            #expect(output.contains("it has read replicas"), "\(output)")
            #expect(try await bed.calls("rds", "StopDBInstance") == 1)   // refused once, not retried
            #expect(try await bed.calls("rds", "PromoteReadReplica") == 0)
            #expect(try await bed.calls("route53", "ChangeResourceRecordSets") == 0)
            let state = try bed.inspect()
            #expect(Self.replica(state)["source"] is String)
            #expect((state["primary"] as? [String: Any])?["status"] as? String == "available")
        }

        @Test func anUnreachableOldRegionEndsDegradedAndSaysFencingWasNotConfirmed() async throws {
            let bed = try Bed.make()
            try bed.setUp()
            try await bed.resetProxy()
            // The old region's RDS answers only server errors to the fence's change.
            try await bed.control("POST", "/_faults", ["rules": [["service": "rds", "operation": "ModifyDBInstance", "fault": "error5xx", "status": 503]]])
            let result = try bed.drctl(bed.failoverArguments())
            try await bed.resetProxy()
            #expect(result.status == 13, "\(result.stdout)\n\(result.stderr)")
            let state = try bed.inspect()
            #expect(Self.replica(state)["source"] == nil || Self.replica(state)["source"] is NSNull, "\(state)")
            #expect(Self.record(state, bed) == ["app-usw2.\(bed.prefix).example.com."])
            #expect(result.stdout.contains("fence-db1: fencing NOT confirmed"), "\(result.stdout)")
            #expect(result.stdout.contains("Summary of run-") && result.stdout.contains(": degraded"), "\(result.stdout)")
            #expect(result.stderr.contains("DEGRADED"), "\(result.stderr)")
        }

        @Test func aMisspelledNodeGroupBlocksThePreflightAndNothingChanges() async throws {
            let bed = try Bed.make()
            try bed.setUp(nodegroup: "wrokers")
            try await bed.resetProxy()
            let result = try bed.drctl(bed.failoverArguments())
            #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stderr.contains("EKS node group \(bed.prefix)-dr/wrokers does not exist in us-west-2"), "\(result.stderr)")
            #expect(!result.stdout.contains("will scale"), "\(result.stdout)")
            #expect(try await bed.calls("eks", "DescribeNodegroup") >= 1)
            #expect(try await mutations(bed) == [:])
            let state = try bed.inspect()
            #expect(Self.replica(state)["source"] is String)
            #expect(Self.record(state, bed) == ["app-use1.\(bed.prefix).example.com."])
        }

        @Test func aCapacityStepFailingAfterTheFenceStillPromotesAndMovesTraffic() async throws {
            let bed = try Bed.make()
            try bed.setUp()
            try await bed.resetProxy()
            try await bed.control("POST", "/_faults", ["rules": [[
                "service": "eks", "operation": "UpdateNodegroupConfig", "fault": "error5xx", "status": 400, "code": "InvalidParameterException",
                "message": "desired size exceeds the account's instance limit",
            ]]])
            let result = try bed.drctl(bed.failoverArguments())
            try await bed.resetProxy()
            #expect(result.status == 13, "\(result.stdout)\n\(result.stderr)")
            let state = try bed.inspect()
            #expect(Self.replica(state)["source"] == nil || Self.replica(state)["source"] is NSNull, "\(state)")
            #expect(Self.record(state, bed) == ["app-usw2.\(bed.prefix).example.com."])
            #expect(result.stdout.contains("scale-\(bed.prefix)-dr-workers: NOT done (failed"), "\(result.stdout)")
            #expect(result.stdout.contains(": degraded"), "\(result.stdout)")
            #expect(result.stdout.contains("fence-db1: confirmed"), "\(result.stdout)")
        }
    }
}
