import DRCore
import Foundation

/// `gcp.sql.fence`: the old primary stops taking writes — `instances.patch` of
/// `settings.activationPolicy: NEVER` (Cloud SQL's stop,
/// https://cloud.google.com/sql/docs/postgres/start-stop-restart-instance), then `instances.get`
/// until the policy is NEVER with no operation running. Reported fenced only when a get confirmed it.
///
/// Cloud SQL does not stop a primary that still has read replicas; the action fails at once with
/// the fix (promote or delete the replicas first) instead of retrying a call that cannot succeed.
/// When the region does not answer (transport errors, 5xx after the client's retries), the step
/// does not fail: it reports `fenced: false, confirmed: false`, why (`reason`) and the same text as
/// `degraded`, so the move goes on and ends degraded — as `aws.rds.fence-instance` does. Any other
/// failure (denied, not found, refused) fails the step: a move must not promote past a primary that
/// may still take writes.
struct SQLFenceAction: RunbookAction {
    let sql: CloudSQLClient
    let name = "gcp.sql.fence"
    let summary = "Stops an old Cloud SQL primary from taking writes (settings.activationPolicy NEVER) and confirms it with a get; an unreachable region gives fenced: false, confirmed: false and a degraded run. Outputs: fenced, confirmed, instance, activation_policy, reason, degraded."
    let permissions: [ActionPermission] = [
        .gcp("cloudsql.instances.update", method: "sqladmin.instances.patch"),
        .gcp("cloudsql.instances.get", method: "sqladmin.instances.get"),
        .gcp("cloudsql.instances.get", method: "sqladmin.operations.get"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [GCPActions.project, GCPActions.name("instance", help: "the old primary to stop")]

    func describe(_ arguments: [String: RunValue]) -> String {
        "instances.patch \(arguments.argumentText("instance")) in project \(arguments.argumentText("project")) settings.activationPolicy=NEVER "
            + "unless already NEVER, wait for the operation, then instances.get until the policy is NEVER"
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        return try await reachable(project: project, instance: instance) {
            guard let found = try await sql.instance(project: project, name: instance, deadline: invocation.deadline) else {
                throw ActionError(.permanent, "Cloud SQL instance \(instance) does not exist in project \(project): nothing to fence")
            }
            guard found.isStopped,
                  try await sql.runningOperations(project: project, instance: instance, deadline: invocation.deadline).isEmpty else { return nil }
            return Self.fenced(found)
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        let clock = invocation.services.clock, deadline = invocation.deadline
        let what = "stop of \(instance) in \(project)"
        return try await reachable(project: project, instance: instance) {
            // Whatever runs on the instance (this step's earlier patch, a backup) ends first: Cloud
            // SQL refuses a change while an operation runs (409 operationInProgress).
            for running in try await sql.runningOperations(project: project, instance: instance, deadline: deadline) {
                _ = try? await sql.wait(named: running.name, project: project, what: "\(running.operationType ?? "operation") on \(instance)",
                                        clock: clock, until: deadline)
            }
            guard let found = try await sql.instance(project: project, name: instance, deadline: deadline) else {
                throw ActionError(.permanent, "Cloud SQL instance \(instance) does not exist in project \(project): nothing to fence")
            }
            if found.isStopped { return [:] }
            if !found.replicas.isEmpty {
                throw ActionError(.permanent, "Cloud SQL cannot stop \(instance): it has read replicas (\(found.replicas.joined(separator: ", "))); "
                                  + "promote the DR replica first (promotion detaches it) or delete the other replicas, then fence")
            }
            let started = try await sql.setActivationPolicy(project: project, instance: instance, policy: "NEVER", deadline: deadline)
            _ = try await sql.wait(started, project: project, what: what, clock: clock, until: deadline)
            return [:]
        } ?? [:]
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        if acted["confirmed"] == .bool(false) { return acted }
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        return try await reachable(project: project, instance: instance) {
            let found = try await sql.waitInstance(project: project, name: instance, what: "\(instance) in \(project) to be stopped (activationPolicy NEVER)",
                                                   clock: invocation.services.clock, until: invocation.deadline) { found in
                guard let found else { return .failure("the instance no longer exists") }
                return found.isStopped ? .success : .retry
            }!
            return Self.fenced(found)
        } ?? [:]
    }

    static func fenced(_ instance: SQLInstance) -> [String: RunValue] {
        ["fenced": .bool(true), "confirmed": .bool(true), "instance": .string(instance.name),
         "activation_policy": instance.settings?.activationPolicy.map(RunValue.string) ?? .null, "reason": .null, "degraded": .null]
    }

    /// Runs `body`; when the region does not answer, returns the unconfirmed-fencing outputs instead.
    private func reachable(project: String, instance: String, _ body: () async throws -> [String: RunValue]?) async throws -> [String: RunValue]? {
        try await GCPActions.mapped(permissions) {
            do {
                return try await body()
            } catch let error as TransportError {
                return Self.unconfirmed(instance, reason: "Cloud SQL unreachable: \(error.description)")
            } catch let error as GCPServiceError where error.httpStatus >= 500 {
                return Self.unconfirmed(instance, reason: "Cloud SQL answers only server errors: \(error.description)")
            }
        }
    }

    static func unconfirmed(_ instance: String, reason: String) -> [String: RunValue] {
        let reason = "fencing of \(instance) could not be confirmed: \(reason)"
        // `degraded`: the engine ends a run whose step reports it `degraded`, never `succeeded`.
        return ["fenced": .bool(false), "confirmed": .bool(false), "instance": .string(instance), "activation_policy": .null,
                "reason": .string(reason), "degraded": .string(reason)]
    }
}
