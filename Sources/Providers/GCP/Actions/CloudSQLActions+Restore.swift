import DRCore
import Foundation

/// `gcp.sql.restore-backup`: restores a backup run into a target instance
/// (`instances.restoreBackup`,
/// https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances/restoreBackup) — the
/// instance's data is replaced by the backup's. The backup may be the target's own or another
/// instance's (`source_instance`, `source_project`), as for a restore into a standby.
///
/// Restoring twice is not harmless: the second restore throws away what was written after the
/// first. So observe comes first and looks for this step's own RESTORE_VOLUME operation on the
/// target (`operations.list`, inserted since the step first started): done without error → the
/// step is done, nothing is called; still running → act waits for it. Only when the step has
/// no operation does act call `restoreBackup`, then waits for its Operation and for the instance
/// to be RUNNABLE. A resume after kill -9 mid-restore therefore restores exactly once.
struct SQLRestoreBackupAction: RunbookAction {
    let sql: CloudSQLClient
    let name = "gcp.sql.restore-backup"
    let summary = "Restores a Cloud SQL backup run (of the instance itself or of source_instance) into an instance (instances.restoreBackup, replacing its data), at most once per step, and waits until it is RUNNABLE. Outputs: instance, state, connection_name, primary_ip, ip_addresses, backup_run_id, source_instance, operation, requested."
    static let operationType = "RESTORE_VOLUME"
    let permissions: [ActionPermission] = [
        .gcp("cloudsql.instances.restoreBackup", method: "sqladmin.instances.restoreBackup"),
        .gcp("cloudsql.instances.get", method: "sqladmin.instances.get"),
        .gcp("cloudsql.instances.get", method: "sqladmin.operations.list"),
        .gcp("cloudsql.instances.get", method: "sqladmin.operations.get"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        GCPActions.project,
        GCPActions.name("instance", help: "the instance whose data the backup replaces (not a read replica)"),
        .init("backup_run_id", .string, required: true, help: "the backup run's id (backupRuns.list, gcp.sql.create-backup's backup_run_id)",
              check: .init(.pattern("[0-9]{1,19}"), expected: "a backup run id (digits)")),
        GCPActions.name("source_instance", help: "the instance the backup was taken from (default: instance)", required: false),
        GCPActions.name("source_project", help: "the source instance's project (default: project)", required: false),
    ]

    struct Target {
        let project: String, instance: String, backupRunId: String, source: String, sourceProject: String
    }

    func target(_ invocation: ActionInvocation) throws -> Target {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        let run = try arguments.string("backup_run_id")
        guard run.count <= 19, run.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw arguments.invalid("backup_run_id", "a backup run id (digits), found '\(run.prefix(40))'")
        }
        return Target(project: project, instance: instance, backupRunId: run,
                      source: try arguments.optionalString("source_instance").map { _ in try arguments.name("source_instance") } ?? instance,
                      sourceProject: try arguments.optionalString("source_project").map { _ in try arguments.name("source_project") } ?? project)
    }

    func describe(_ arguments: [String: RunValue]) -> String {
        let source = arguments.argumentText("source_instance", arguments.argumentText("instance"))
        return "instances.restoreBackup of backup run \(arguments.argumentText("backup_run_id")) of \(source) into \(arguments.argumentText("instance")) "
            + "in project \(arguments.argumentText("project")) (replaces its data) unless this step's restore already ran, wait for the operation, "
            + "then instances.get until it is RUNNABLE"
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let target = try target(invocation)
        return try await GCPActions.mapped(permissions) {
            guard let own = try await sql.ownOperation(project: target.project, instance: target.instance, type: Self.operationType,
                                                       since: invocation.firstStartedAt, deadline: invocation.deadline), own.isDone else { return nil }
            let operation = try await sql.operation(project: target.project, name: own.name, deadline: invocation.deadline)
            guard operation.errorMessage == nil else { return nil }
            guard let found = try await sql.instance(project: target.project, name: target.instance, deadline: invocation.deadline),
                  found.isRunnable else { return nil }
            return outputs(found, target: target, operation: own.name, requested: false)
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let target = try target(invocation)
        let clock = invocation.services.clock, deadline = invocation.deadline
        let what = "restore of backup run \(target.backupRunId) into \(target.instance) in \(target.project)"
        return try await GCPActions.mapped(permissions) {
            // This step's own restore (a retry, or a resume after a crash): wait for it, never start a second.
            // One that failed changed nothing (Cloud SQL restores all or nothing): its error fails the step.
            if let own = try await sql.ownOperation(project: target.project, instance: target.instance, type: Self.operationType,
                                                    since: invocation.firstStartedAt, deadline: deadline) {
                _ = try await sql.wait(named: own.name, project: target.project, what: what, clock: clock, until: deadline)
                return ["operation": .string(own.name), "requested": .bool(false)]
            }
            guard let found = try await sql.instance(project: target.project, name: target.instance, deadline: deadline) else {
                throw ActionError(.permanent, "Cloud SQL instance \(target.instance) does not exist in project \(target.project): nothing to restore into")
            }
            guard found.instanceType != "READ_REPLICA_INSTANCE" else {
                throw ActionError(.permanent, "Cloud SQL instance \(target.instance) is a read replica: a backup cannot be restored into it (promote it first)")
            }
            let started = try await sql.restoreBackup(project: target.project, instance: target.instance, backupRunId: target.backupRunId,
                                                      source: target.source, sourceProject: target.sourceProject, deadline: deadline)
            try? await invocation.recordIntentDetail(["operation": .string(started.name ?? "")])
            _ = try await sql.wait(started, project: target.project, what: what, clock: clock, until: deadline)
            return ["operation": started.name.map(RunValue.string) ?? .null, "requested": .bool(true)]
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let target = try target(invocation)
        return try await GCPActions.mapped(permissions) {
            let found = try await sql.waitInstance(project: target.project, name: target.instance, what: "\(target.instance) in \(target.project) to be RUNNABLE",
                                                   clock: invocation.services.clock, until: invocation.deadline) { found in
                guard let found else { return .failure("the instance no longer exists") }
                return found.isRunnable ? .success : .retry
            }!
            return outputs(found, target: target, operation: acted["operation"]?.stringValue, requested: acted["requested"] == .bool(true))
        }
    }

    private func outputs(_ found: SQLInstance, target: Target, operation: String?, requested: Bool) -> [String: RunValue] {
        SQLOutputs.instance(found).merging(["backup_run_id": .string(target.backupRunId), "source_instance": .string(target.source),
                                            "operation": operation.map(RunValue.string) ?? .null, "requested": .bool(requested)]) { $1 }
    }
}
