import DRCore
import Foundation

/// `gcp.sql.failover`: the HA failover of a REGIONAL Cloud SQL instance to its standby zone
/// (`instances.failover`, https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances/failover).
/// Cloud SQL wants `failoverContext.settingsVersion` to be the instance's current one (else 412),
/// so every call is preceded by a fresh `instances.get`.
///
/// A failover is not idempotent — a second one fails back — so the action never calls twice for
/// one step: act journals the zone it saw before the call (`recordIntentDetail`), and a retry or a
/// resume first looks for this step's own FAILOVER operation (`operations.list`), waits for it if
/// it exists, and counts a zone that moved since the journaled one as done.
struct SQLFailoverAction: RunbookAction {
    let sql: CloudSQLClient
    let name = "gcp.sql.failover"
    let summary = "Fails a high-availability (REGIONAL) Cloud SQL instance over to its standby zone and waits until it is RUNNABLE in the other zone. Outputs: instance, zone, previous_zone, state, connection_name, primary_ip, ip_addresses, operation."
    let permissions: [ActionPermission] = [
        .gcp("cloudsql.instances.failover", method: "sqladmin.instances.failover"),
        .gcp("cloudsql.instances.get", method: "sqladmin.instances.get"),
        .gcp("cloudsql.instances.get", method: "sqladmin.operations.list"),
        .gcp("cloudsql.instances.get", method: "sqladmin.operations.get"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [GCPActions.project, GCPActions.name("instance", help: "the REGIONAL (HA) instance")]

    func describe(_ arguments: [String: RunValue]) -> String {
        "instances.get of \(arguments.argumentText("instance")) in project \(arguments.argumentText("project")) for its settingsVersion, "
            + "instances.failover with it (unless this step's failover already ran), wait for the operation, then instances.get until RUNNABLE in the standby zone"
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        // Only a step that journaled its zone before calling can tell that its failover happened.
        guard case .string(let before)? = invocation.inDoubtDetail["zone_before"] else { return nil }
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        return try await GCPActions.mapped(permissions) {
            guard let found = try await sql.instance(project: project, name: instance, deadline: invocation.deadline),
                  found.isRunnable, let zone = found.gceZone, zone != before,
                  try await sql.runningOperations(project: project, instance: instance, deadline: invocation.deadline).isEmpty else { return nil }
            return Self.outputs(found, before: before, operation: invocation.inDoubtDetail["operation"] ?? .null)
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        let clock = invocation.services.clock, deadline = invocation.deadline
        let what = "FAILOVER of \(instance) in \(project)"
        return try await GCPActions.mapped(permissions) {
            if let own = try await sql.ownOperation(project: project, instance: instance, type: "FAILOVER",
                                                    since: invocation.firstStartedAt, deadline: deadline) {
                _ = try await sql.wait(named: own.name, project: project, what: what, clock: clock, until: deadline)
                return ["operation": .string(own.name), "zone_before": invocation.inDoubtDetail["zone_before"] ?? .null]
            }
            guard let found = try await sql.instance(project: project, name: instance, deadline: deadline) else {
                throw ActionError(.permanent, "Cloud SQL instance \(instance) does not exist in project \(project): nothing to fail over")
            }
            guard found.settings?.availabilityType == "REGIONAL" else {
                throw ActionError(.permanent, "Cloud SQL instance \(instance) is not highly available (availabilityType \(found.settings?.availabilityType ?? "unset"), "
                                  + "expected REGIONAL): there is no standby to fail over to; use gcp.sql.promote-replica for a cross-region replica")
            }
            guard let version = found.settings?.settingsVersion else {
                throw ActionError(.permanent, "Cloud SQL returned \(instance) without settings.settingsVersion: cannot build failoverContext")
            }
            let before: RunValue = found.gceZone.map(RunValue.string) ?? .null
            try await invocation.recordIntentDetail(["zone_before": before])
            let started = try await sql.failover(project: project, instance: instance, settingsVersion: version, deadline: deadline)
            _ = try await sql.wait(started, project: project, what: what, clock: clock, until: deadline)
            return ["operation": started.name.map(RunValue.string) ?? .null, "zone_before": before]
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        let before = acted["zone_before"]?.stringValue
        return try await GCPActions.mapped(permissions) {
            let found = try await sql.waitInstance(project: project, name: instance, what: "\(instance) in \(project) to be RUNNABLE after failover",
                                                   clock: invocation.services.clock, until: invocation.deadline) { found in
                guard let found else { return .failure("the instance no longer exists") }
                return found.isRunnable ? .success : .retry
            }!
            return Self.outputs(found, before: before, operation: acted["operation"] ?? .null)
        }
    }

    static func outputs(_ instance: SQLInstance, before: String?, operation: RunValue) -> [String: RunValue] {
        var outputs = SQLOutputs.instance(instance)
        outputs["zone"] = instance.gceZone.map(RunValue.string) ?? .null
        outputs["previous_zone"] = before.map(RunValue.string) ?? .null
        outputs["operation"] = operation
        return outputs
    }
}
