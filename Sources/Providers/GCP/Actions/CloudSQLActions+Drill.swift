import DRCore
import Foundation

/// `gcp.sql.create-backup`: an on-demand backup run (`backupRuns.insert`), described with a text
/// derived from the run and step, so that a retry or resume finds its own backup instead of
/// taking a second one.
struct SQLCreateBackupAction: RunbookAction {
    let sql: CloudSQLClient
    let name = "gcp.sql.create-backup"
    let summary = "Takes an on-demand Cloud SQL backup (backupRuns.insert) and waits until it is SUCCESSFUL. Outputs: backup_run_id, status, end_time, description."
    let permissions: [ActionPermission] = [
        .gcp("cloudsql.backupRuns.create", method: "sqladmin.backupRuns.insert"),
        .gcp("cloudsql.backupRuns.list", method: "sqladmin.backupRuns.list"),
        .gcp("cloudsql.instances.get", method: "sqladmin.operations.get"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [GCPActions.project, GCPActions.instance]

    func describe(_ arguments: [String: RunValue]) -> String {
        "backupRuns.insert on \(arguments.argumentText("instance")) in project \(arguments.argumentText("project")) unless this step's backup exists, "
            + "wait for the operation, then backupRuns.list until it is SUCCESSFUL"
    }

    static func description(_ invocation: ActionInvocation) -> String { "drctl \(invocation.idempotencyToken)" }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        return try await GCPActions.mapped(permissions) {
            let own = try await sql.backupRuns(project: project, instance: instance, deadline: invocation.deadline)
                .first { $0.description == Self.description(invocation) }
            return own?.status == "SUCCESSFUL" ? Self.outputs(own!) : nil
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        let clock = invocation.services.clock, deadline = invocation.deadline, what = "backup of \(instance) in \(project)"
        return try await GCPActions.mapped(permissions) {
            if let own = try await sql.ownOperation(project: project, instance: instance, type: "BACKUP_VOLUME",
                                                    since: invocation.firstStartedAt, deadline: deadline) {
                _ = try await sql.wait(named: own.name, project: project, what: what, clock: clock, until: deadline)
                return [:]
            }
            let started = try await sql.insertBackup(project: project, instance: instance, description: Self.description(invocation), deadline: deadline)
            _ = try await sql.wait(started, project: project, what: what, clock: clock, until: deadline)
            return [:]
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        let description = Self.description(invocation), sql = self.sql
        return try await GCPActions.mapped(permissions) {
            let run = try await Waiter<SQLBackupRun?>(what: "backup '\(description)' of \(instance) to be SUCCESSFUL", minimumDelay: 2, maximumDelay: 15,
                                                      clock: invocation.services.clock) { run in
                switch run?.status {
                case "SUCCESSFUL"?: return .success
                case "FAILED"?, "SKIPPED"?, "DELETED"?: return .failure("the backup run ended \(run?.status ?? "")")
                default: return .retry
                }
            }.wait(until: invocation.deadline) {
                try await sql.backupRuns(project: project, instance: instance, deadline: invocation.deadline).first { $0.description == description }
            }
            return Self.outputs(run!)
        }
    }

    static func outputs(_ run: SQLBackupRun) -> [String: RunValue] {
        ["backup_run_id": run.id.map(RunValue.string) ?? .null, "status": run.status.map(RunValue.string) ?? .null,
         "end_time": run.endTime.map(RunValue.string) ?? .null, "description": run.description.map(RunValue.string) ?? .null]
    }
}

/// `gcp.sql.clone`: a new instance from a source's data, at a point in time when one is given
/// (`instances.clone` with `cloneContext.pointInTime`, which needs point-in-time recovery on the
/// source and a time inside its log retention window). For drills: the clone is named
/// `drctl-drill-…` from the run and step unless `name` says otherwise, so a retry finds it, and
/// `gcp.sql.delete-instance` may tear it down.
struct SQLCloneAction: RunbookAction {
    let sql: CloudSQLClient
    let name = "gcp.sql.clone"
    let summary = "Clones a Cloud SQL instance (optionally at a point in time) into a new drill instance and waits until it is RUNNABLE. Outputs: instance (the clone's name), state, connection_name, primary_ip, ip_addresses, source, point_in_time."
    let permissions: [ActionPermission] = [
        .gcp("cloudsql.instances.clone", method: "sqladmin.instances.clone"),
        .gcp("cloudsql.instances.get", method: "sqladmin.instances.get"),
        .gcp("cloudsql.instances.get", method: "sqladmin.operations.get"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        GCPActions.project, GCPActions.name("instance", help: "the source instance"),
        GCPActions.name("name", help: "the clone's name (default drctl-drill-<run>-<step>)", required: false),
        .init("point_in_time", .string, help: "RFC 3339 time to clone at (default: now)", check: GCPActions.rfc3339),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        let at = arguments["point_in_time"].map { " at \($0)" } ?? ""
        return "instances.clone of \(arguments.argumentText("instance")) in project \(arguments.argumentText("project"))\(at) into "
            + "\(arguments.argumentText("name", "drctl-drill-<run>-<step>")) unless it exists, then instances.get until the clone is RUNNABLE"
    }

    static func cloneName(_ invocation: ActionInvocation) throws -> String {
        try GCPArguments(invocation).optionalString("name").map { _ in try GCPArguments(invocation).name("name") }
            ?? GCPActions.resourceName(invocation.idempotencyToken, prefix: "drctl-drill", limit: 80)
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), clone = try Self.cloneName(invocation)
        return try await GCPActions.mapped(permissions) {
            guard let found = try await sql.instance(project: project, name: clone, deadline: invocation.deadline), found.isRunnable else { return nil }
            return try outputs(found, invocation)
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), source = try arguments.name("instance"), clone = try Self.cloneName(invocation)
        let pointInTime = try arguments.optionalString("point_in_time")
        if let pointInTime, RFC3339.parse(pointInTime) == nil {
            throw ActionError(.permanent, "argument 'point_in_time' must be an RFC 3339 time such as 2026-12-05T10:00:00Z, found '\(pointInTime.prefix(60))'")
        }
        return try await GCPActions.mapped(permissions) {
            // A clone that exists already is this step's (its name comes from the run): verify waits for it.
            if try await sql.instance(project: project, name: clone, deadline: invocation.deadline) != nil { return [:] }
            do {
                let started = try await sql.clone(project: project, source: source, destination: clone, pointInTime: pointInTime, deadline: invocation.deadline)
                return ["operation": started.name.map(RunValue.string) ?? .null]
            } catch let error as GCPServiceError where error.httpStatus == 409 && error.reason == "instanceAlreadyExists" {
                return [:]
            }
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), clone = try Self.cloneName(invocation)
        return try await GCPActions.mapped(permissions) {
            if case .string(let operation)? = acted["operation"] {
                // The clone's operation runs on the source; its failure (a point outside the window) is the answer.
                _ = try await sql.wait(named: operation, project: project, what: "clone into \(clone)", clock: invocation.services.clock,
                                       until: invocation.deadline)
            }
            let found = try await sql.waitInstance(project: project, name: clone, what: "clone \(clone) in \(project) to be RUNNABLE",
                                                   clock: invocation.services.clock, until: invocation.deadline) { found in
                guard let found else { return .failure("the clone does not exist (the clone operation failed or it was deleted)") }
                if found.state == "FAILED" { return .failure("the clone is FAILED") }
                return found.isRunnable ? .success : .retry
            }!
            return try outputs(found, invocation)
        }
    }

    private func outputs(_ clone: SQLInstance, _ invocation: ActionInvocation) throws -> [String: RunValue] {
        var outputs = SQLOutputs.instance(clone)
        outputs["source"] = .string(try GCPArguments(invocation).name("instance"))
        outputs["point_in_time"] = try GCPArguments(invocation).optionalString("point_in_time").map(RunValue.string) ?? .null
        return outputs
    }
}

/// `gcp.sql.delete-instance`: deletes a Cloud SQL instance — only one named `drctl-drill-…` or
/// labelled `drctl-drill: true`, unless `allow_any: true` says otherwise (a drill's teardown must
/// never be able to delete the primary through a typo). A missing instance (404) is done.
struct SQLDeleteInstanceAction: RunbookAction {
    let sql: CloudSQLClient
    let name = "gcp.sql.delete-instance"
    let summary = "Deletes a drill Cloud SQL instance (named drctl-drill-… or labelled drctl-drill: true, unless allow_any) and waits until it is gone; one that does not exist is done. Outputs: instance, deleted, existed."
    let permissions: [ActionPermission] = [
        .gcp("cloudsql.instances.delete", method: "sqladmin.instances.delete"),
        .gcp("cloudsql.instances.get", method: "sqladmin.instances.get"),
        .gcp("cloudsql.instances.get", method: "sqladmin.operations.get"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        GCPActions.project, GCPActions.instance,
        .init("allow_any", .bool, help: "also delete an instance that is not drill-named or drill-labelled (default false)"),
    ]
    static let prefix = "drctl-drill-"

    func describe(_ arguments: [String: RunValue]) -> String {
        "instances.delete \(arguments.argumentText("instance")) in project \(arguments.argumentText("project")) if it exists"
            + (arguments["allow_any"] == .bool(true) ? "" : " and is a drill instance") + ", then instances.get until it is gone (404)"
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        return try await GCPActions.mapped(permissions) {
            try await sql.instance(project: project, name: instance, deadline: invocation.deadline) == nil
                ? ["instance": .string(instance), "deleted": .bool(true), "existed": .bool(false)] : nil
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        let allowAny = try arguments.bool("allow_any") ?? false
        return try await GCPActions.mapped(permissions) {
            guard let found = try await sql.instance(project: project, name: instance, deadline: invocation.deadline) else {
                return ["existed": .bool(false)]
            }
            guard allowAny || instance.hasPrefix(Self.prefix) || found.labels["drctl-drill"] == "true" else {
                throw ActionError(.permanent, "refusing to delete Cloud SQL instance \(instance): it is neither named \(Self.prefix)… nor labelled "
                                  + "drctl-drill: true (set allow_any: true to delete it anyway)")
            }
            if found.state == "PENDING_DELETE" { return ["existed": .bool(true)] }
            do {
                _ = try await sql.delete(project: project, instance: instance, deadline: invocation.deadline)
            } catch let error as GCPServiceError where error.category == .notFound {
                return ["existed": .bool(false)]
            }
            return ["existed": .bool(true)]
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), instance = try arguments.name("instance")
        return try await GCPActions.mapped(permissions) {
            _ = try await sql.waitInstance(project: project, name: instance, what: "\(instance) in \(project) to be deleted",
                                           clock: invocation.services.clock, until: invocation.deadline) { found in
                found == nil ? .success : .retry
            }
            return ["instance": .string(instance), "deleted": .bool(true), "existed": acted["existed"] ?? .bool(true)]
        }
    }
}
