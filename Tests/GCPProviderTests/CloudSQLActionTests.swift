import DRCore
import Foundation
import Testing
@testable import GCPProvider

/// The `gcp.sql.*` actions against the stand-in: each happy path, refusals mapped to the engine's
/// error kinds, and resume safety. Every test ends with no discovery-document violation.
@Suite(.serialized) struct CloudSQLActionTests {
    static let promote = "sql.instances.promoteReplica"

    func pair(_ h: GCPActionHarness, dr: Bool = false, regional: Bool = false) async throws -> (primary: String, replica: String) {
        let primary = h.name("orders"), replica = h.name("orders-dr")
        var spec: [String: Any] = ["name": primary]
        if regional { spec["settings"] = ["availabilityType": "REGIONAL"] }
        try await h.seedInstance(spec)
        try await h.seedInstance(["name": replica, "masterInstanceName": primary, "region": "us-east1", "drReplica": dr])
        return (primary, replica)
    }

    @Test func promoteReplicaMakesARunnablePrimaryAndASecondRunCallsNothing() async throws {
        let h = try await GCPActionHarness()
        let (_, replica) = try await pair(h)
        let before = try await h.bed.calls(Self.promote)
        let args: [String: RunValue] = ["project": .string(h.bed.project), "instance": .string(replica)]
        let outputs = try await h.perform("gcp.sql.promote-replica", args)
        #expect(outputs["state"] == .string("RUNNABLE") && outputs["requested"] == .bool(true))
        #expect(outputs["primary_ip"]?.stringValue?.hasPrefix("10.20.") == true)
        #expect(try await h.instance(replica)?["instanceType"] as? String == "CLOUD_SQL_INSTANCE")
        let again = try await h.perform("gcp.sql.promote-replica", h.invocation(args, attempt: 2))
        #expect(again["requested"] == .bool(false))
        #expect(try await h.bed.calls(Self.promote) - before == 1)
        try await h.bed.expectNoViolations()
    }

    @Test func promoteReplicaOfAnExternalPrimary() async throws {
        let h = try await GCPActionHarness()
        let source = h.name("rds-source"), replica = h.name("orders-gcp")
        try await h.seedInstance(["name": source, "instanceType": "ON_PREMISES_INSTANCE", "onPremisesConfiguration": ["hostPort": "203.0.113.5:5432"]])
        try await h.seedInstance(["name": replica, "masterInstanceName": source])
        let outputs = try await h.perform("gcp.sql.promote-replica", ["project": .string(h.bed.project), "instance": .string(replica)])
        #expect(outputs["state"] == .string("RUNNABLE"))
        #expect(try await h.instance(replica)?["masterInstanceName"] == nil)
        try await h.bed.expectNoViolations()
    }

    /// kill -9 after the promote call, while its Operation runs: the resumed step finds the
    /// operation through operations.list and waits for it — exactly one promoteReplica.
    @Test func aResumeAfterACrashMidPromotionWaitsForTheRunningOperationInsteadOfCallingAgain() async throws {
        let h = try await GCPActionHarness()
        let (_, replica) = try await pair(h)
        try await h.bed.admin("POST", "config", ["durations": ["sql.promoteReplica": 4]])
        let before = try await h.bed.calls(Self.promote)
        let args: [String: RunValue] = ["project": .string(h.bed.project), "instance": .string(replica)]
        let started = Date()
        let crashed = Task { try await h.perform("gcp.sql.promote-replica", h.invocation(args, startedAt: started)) }
        for _ in 0..<100 where try await h.bed.calls(Self.promote) == before { try await Task.sleep(for: .milliseconds(50)) }
        crashed.cancel()
        _ = await crashed.result
        #expect(try await h.instance(replica)?["instanceType"] as? String == "READ_REPLICA_INSTANCE", "the promotion must still run")
        let outputs = try await h.perform("gcp.sql.promote-replica", h.invocation(args, attempt: 2, isResume: true, startedAt: started))
        #expect(outputs["requested"] == .bool(false) && outputs["operation"]?.stringValue != nil)
        #expect(outputs["state"] == .string("RUNNABLE"))
        #expect(try await h.bed.calls(Self.promote) - before == 1)
        try await h.bed.expectNoViolations()
    }

    @Test func switchoverSwapsTheRolesWithTheDRReplica() async throws {
        let h = try await GCPActionHarness()
        let (primary, replica) = try await pair(h, dr: true)
        let outputs = try await h.perform("gcp.sql.switchover", ["project": .string(h.bed.project), "instance": .string(replica)])
        #expect(outputs["state"] == .string("RUNNABLE"))
        #expect(try await h.instance(primary)?["masterInstanceName"] as? String == replica)
        try await h.bed.expectNoViolations()
    }

    @Test func haFailoverMovesZonesOnceEvenWhenResumed() async throws {
        let h = try await GCPActionHarness()
        let (primary, _) = try await pair(h, regional: true)
        let zone = try await h.instance(primary)?["gceZone"] as? String
        let args: [String: RunValue] = ["project": .string(h.bed.project), "instance": .string(primary)]
        let started = Date()
        let outputs = try await h.perform("gcp.sql.failover", h.invocation(args, startedAt: started))
        #expect(outputs["previous_zone"] == zone.map(RunValue.string) && outputs["zone"] != outputs["previous_zone"])
        // A resume whose act journaled the zone before: observe sees it moved, nothing is called.
        let calls = try await h.bed.calls("sql.instances.failover")
        let resumed = try await h.perform("gcp.sql.failover", h.invocation(args, attempt: 2, isResume: true, startedAt: started,
                                                                          inDoubt: ["zone_before": zone.map(RunValue.string) ?? .null]))
        #expect(resumed["zone"] == outputs["zone"])
        // A retry without journal detail finds its own FAILOVER operation instead of failing back.
        _ = try await h.perform("gcp.sql.failover", h.invocation(args, attempt: 3, startedAt: started))
        #expect(try await h.bed.calls("sql.instances.failover") == calls)
        #expect(try await h.instance(primary)?["gceZone"] as? String == outputs["zone"]?.stringValue)
        try await h.bed.expectNoViolations()
    }

    @Test func fenceStopsAStandalonePrimaryConfirmedByAGet() async throws {
        let h = try await GCPActionHarness()
        let (primary, replica) = try await pair(h)
        _ = try await h.perform("gcp.sql.promote-replica", ["project": .string(h.bed.project), "instance": .string(replica)])
        let outputs = try await h.perform("gcp.sql.fence", ["project": .string(h.bed.project), "instance": .string(primary)])
        #expect(outputs["fenced"] == .bool(true) && outputs["confirmed"] == .bool(true) && outputs["activation_policy"] == .string("NEVER"))
        let settings = try await h.instance(primary)?["settings"] as? [String: Any]
        #expect(settings?["activationPolicy"] as? String == "NEVER")
        try await h.bed.expectNoViolations()
    }

    @Test func fenceOfAPrimaryWithReplicasFailsWithTheFix() async throws {
        let h = try await GCPActionHarness()
        let (primary, _) = try await pair(h)
        let error = await #expect(throws: ActionError.self) {
            try await h.perform("gcp.sql.fence", ["project": .string(h.bed.project), "instance": .string(primary)])
        }
        #expect(error?.kind == .permanent && error?.message.contains("promote the DR replica first") == true)
        try await h.bed.expectNoViolations()
    }

    @Test func fenceOfAnUnreachableControlPlaneIsUnconfirmedNeverFenced() async throws {
        let h = try await GCPActionHarness()
        let (primary, replica) = try await pair(h)
        _ = try await h.perform("gcp.sql.promote-replica", ["project": .string(h.bed.project), "instance": .string(replica)])
        try await h.bed.admin("POST", "faults", ["rules": [["method": "sql.instances.get", "fault": "error5xx", "times": 50],
                                                          ["method": "sql.operations.list", "fault": "error5xx", "times": 50],
                                                          ["method": "sql.instances.patch", "fault": "error5xx", "times": 50]]])
        defer { Task { _ = try? await h.bed.admin("DELETE", "faults") } }
        let outputs = try await h.perform("gcp.sql.fence", ["project": .string(h.bed.project), "instance": .string(primary)])
        try await h.bed.admin("DELETE", "faults")
        #expect(outputs["fenced"] == .bool(false) && outputs["confirmed"] == .bool(false))
        #expect(outputs["degraded"]?.stringValue?.contains("could not be confirmed") == true)
        try await h.bed.expectNoViolations()
    }

    @Test func refusalsMapToTheEngineErrorKinds() async throws {
        let h = try await GCPActionHarness()
        let (_, replica) = try await pair(h)
        // 404: permanent, named.
        let missing = await #expect(throws: ActionError.self) {
            try await h.perform("gcp.sql.promote-replica", ["project": .string(h.bed.project), "instance": .string(h.name("nope"))])
        }
        #expect(missing?.kind == .permanent && missing?.message.contains("does not exist") == true)
        // 409 operationInProgress (another operation runs on the replica): transient, so the step's retry waits it out.
        try await h.bed.admin("POST", "config", ["durations": ["sql.patch": 3]])
        _ = try await CloudSQLClient(source: h.source).setActivationPolicy(project: h.bed.project, instance: replica, policy: "ALWAYS", deadline: nil)
        let promote = try #require(h.actions["gcp.sql.promote-replica"])
        let busy = await #expect(throws: ActionError.self) {
            _ = try await promote.act(h.invocation(["project": .string(h.bed.project), "instance": .string(replica)]))
        }
        #expect(busy?.kind == .transient && busy?.message.contains("operationInProgress") == true)
        try await h.bed.expectNoViolations()
    }

    /// 403: permanent (exit 8's category at the CLI's edge), naming the IAM permission the call needs.
    @Test func permissionDeniedNamesTheMissingPermission() async throws {
        let setup = try await GCPActionHarness()
        let (_, replica) = try await pair(setup)
        let keyFile = NSTemporaryDirectory() + "viewer-\(setup.tag).json"
        try await setup.bed.admin("POST", "service-accounts", ["name": "viewer-\(setup.tag)", "roles": ["roles/viewer"], "write_to": keyFile])
        let h = try await GCPActionHarness(keyFile: keyFile)
        let denied = await #expect(throws: ActionError.self) {
            try await h.perform("gcp.sql.promote-replica", ["project": .string(h.bed.project), "instance": .string(replica)])
        }
        #expect(denied?.kind == .permanent)
        #expect(denied?.message.contains("permission denied") == true && denied?.message.contains("cloudsql.instances.promoteReplica") == true)
        try await h.bed.expectNoViolations()
    }
}
