import DRCore
import Foundation

/// Actions that create a DB instance (restore, replica): observe = the instance exists and is
/// available; act = create unless it exists (the identifier is the idempotency key); verify =
/// wait until available.
protocol RDSInstanceCreatingAction: RunbookAction {
    var rds: RDSClient { get }
    func create(_ invocation: ActionInvocation, region: String, identifier: String) async throws
}

extension RDSInstanceCreatingAction {
    var isMutating: Bool { true }

    func target(_ invocation: ActionInvocation) throws -> (region: String, identifier: String) {
        let arguments = RDSArguments(invocation)
        return (try arguments.string("region"), try arguments.string("instance"))
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let (region, identifier) = try target(invocation)
        return try await RDSActions.mapped {
            guard let found = try await rds.findDBInstance(region: region, identifier: identifier, deadline: invocation.deadline),
                  found.status == "available" else { return nil }
            return RDSActions.instanceOutputs(found)
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let (region, identifier) = try target(invocation)
        return try await RDSActions.mapped {
            if try await rds.findDBInstance(region: region, identifier: identifier, deadline: invocation.deadline) != nil { return [:] }
            do {
                try await create(invocation, region: region, identifier: identifier)
            } catch where RDSActions.isAlreadyExists(error) {}
            return [:]
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let (region, identifier) = try target(invocation)
        return try await RDSActions.mapped {
            RDSActions.instanceOutputs(try await RDSActions.waiters(rds, invocation).instanceAvailable(
                region: region, identifier: identifier, until: invocation.deadline))
        }
    }
}

/// `aws.rds.restore-from-snapshot`.
struct RDSRestoreFromSnapshotAction: RDSInstanceCreatingAction {
    let rds: RDSClient
    let name = "aws.rds.restore-from-snapshot"
    let summary = "Restores a new RDS instance from a snapshot (unless it exists) and waits until it is available."
    let permissions: [ActionPermission] = [
        .aws("rds:DescribeDBInstances"),
        .aws("rds:RestoreDBInstanceFromDBSnapshot"),
        .aws("rds:AddTagsToResource", note: "with tags: IAM checks it for the tags given at creation"),
    ]
    let parameters: [ActionCatalog.Parameter] = [
        RDSActions.region, .init("snapshot", .string, required: true), .init("instance", .string, required: true),
        .init("instance_class", .string), .init("subnet_group", .string), .init("tags", .map),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        "RestoreDBInstanceFromDBSnapshot \(arguments.argumentText("snapshot")) as \(arguments.argumentText("instance")) in "
            + "\(arguments.argumentText("region")) (class \(arguments.argumentText("instance_class", "as snapshot")), subnet group "
            + "\(arguments.argumentText("subnet_group", "default"))) unless it exists, then DescribeDBInstances until available"
    }

    func create(_ invocation: ActionInvocation, region: String, identifier: String) async throws {
        let arguments = RDSArguments(invocation)
        _ = try await rds.restoreDBInstanceFromDBSnapshot(
            region: region, identifier: identifier, snapshot: try arguments.string("snapshot"),
            instanceClass: try arguments.optionalString("instance_class"), subnetGroup: try arguments.optionalString("subnet_group"),
            tags: try arguments.tags("tags"), deadline: invocation.deadline)
    }
}

/// `aws.rds.restore-to-point-in-time`: `restore_time` (ISO 8601) or the latest restorable time.
struct RDSRestoreToPointInTimeAction: RDSInstanceCreatingAction {
    let rds: RDSClient
    let name = "aws.rds.restore-to-point-in-time"
    let summary = "Restores a new RDS instance from another's backups to a point in time (or the latest restorable time) and waits until it is available."
    let permissions: [ActionPermission] = [
        .aws("rds:DescribeDBInstances"),
        .aws("rds:RestoreDBInstanceToPointInTime"),
        .aws("rds:AddTagsToResource", note: "IAM checks it for the tags given at creation"),
    ]
    let parameters: [ActionCatalog.Parameter] = [
        RDSActions.region, .init("source_instance", .string, required: true), .init("instance", .string, required: true),
        .init("restore_time", .string),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        let point = arguments["restore_time"].map { "RestoreTime=\($0)" } ?? "UseLatestRestorableTime"
        return "RestoreDBInstanceToPointInTime \(arguments.argumentText("source_instance")) → \(arguments.argumentText("instance")) in "
            + "\(arguments.argumentText("region")) (\(point)) unless it exists, then DescribeDBInstances until available"
    }

    func create(_ invocation: ActionInvocation, region: String, identifier: String) async throws {
        let arguments = RDSArguments(invocation)
        var point = RDSClient.RestorePoint.latest
        if let text = try arguments.optionalString("restore_time") {
            guard let date = RDSReplicaLag.parseTimestamp(text) else {
                throw ActionError(.permanent, "argument 'restore_time' must be an ISO 8601 time (got \(text))")
            }
            point = .time(date)
        }
        _ = try await rds.restoreDBInstanceToPointInTime(region: region, source: try arguments.string("source_instance"),
                                                         target: identifier, to: point, deadline: invocation.deadline)
    }
}

/// `aws.rds.create-read-replica`: a replica in `region` of an instance in `source_region`.
struct RDSCreateReadReplicaAction: RDSInstanceCreatingAction {
    let rds: RDSClient
    let name = "aws.rds.create-read-replica"
    let summary = "Creates an RDS read replica in this region of an instance in another region (unless it exists) and waits until it is available."
    let permissions: [ActionPermission] = [
        .aws("rds:DescribeDBInstances"),
        .aws("rds:CreateDBInstanceReadReplica", note: "in the source region too: the presigned URL calls it there"),
        .aws("rds:AddTagsToResource", note: "IAM checks it for the tags given at creation"),
        .aws("kms:CreateGrant", note: "with kms_key_id: RDS uses the key on the caller's behalf"),
        .aws("kms:DescribeKey", note: "with kms_key_id"),
    ]
    let parameters: [ActionCatalog.Parameter] = [
        RDSActions.region, .init("source_instance_arn", .string, required: true), .init("source_region", .string, required: true),
        .init("instance", .string, required: true), .init("instance_class", .string),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        "CreateDBInstanceReadReplica \(arguments.argumentText("instance")) in \(arguments.argumentText("region")) of "
            + "\(arguments.argumentText("source_instance_arn")) (PreSignedUrl for \(arguments.argumentText("source_region"))) unless it "
            + "exists, then DescribeDBInstances until available"
    }

    func create(_ invocation: ActionInvocation, region: String, identifier: String) async throws {
        let arguments = RDSArguments(invocation)
        _ = try await rds.createDBInstanceReadReplica(
            region: region, identifier: identifier, source: try arguments.string("source_instance_arn"),
            sourceRegion: try arguments.string("source_region"), instanceClass: try arguments.optionalString("instance_class"),
            tags: [RDSTag(key: "drctl:run", value: invocation.runId)], deadline: invocation.deadline)
    }
}

/// `aws.rds.delete-instance`: with a final snapshot or, explicitly, without one.
struct RDSDeleteInstanceAction: RunbookAction {
    let rds: RDSClient
    let name = "aws.rds.delete-instance"
    let summary = "Deletes an RDS instance, with a final snapshot unless told explicitly to skip it, and waits until it is gone."
    let permissions: [ActionPermission] = [
        .aws("rds:DescribeDBInstances"),
        .aws("rds:DeleteDBInstance"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        RDSActions.region, .init("instance", .string, required: true), .init("final_snapshot", .string),
        .init("skip_final_snapshot", .bool),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        let final = arguments["final_snapshot"].map { "FinalDBSnapshotIdentifier=\($0)" } ?? "SkipFinalSnapshot=true"
        return "DeleteDBInstance \(arguments.argumentText("instance")) in \(arguments.argumentText("region")) (\(final)), "
            + "then DescribeDBInstances until it is gone"
    }

    private func finalSnapshot(_ arguments: RDSArguments) throws -> RDSClient.FinalSnapshot {
        if let name = try arguments.optionalString("final_snapshot") { return .named(name) }
        guard try arguments.bool("skip_final_snapshot") == true else {
            throw ActionError(.permanent, "delete-instance needs 'final_snapshot' or, to delete without one, 'skip_final_snapshot: true'")
        }
        return .skip
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let arguments = RDSArguments(invocation)
        let region = try arguments.string("region"), identifier = try arguments.string("instance")
        let final = try finalSnapshot(arguments)
        return try await RDSActions.mapped {
            try await rds.findDBInstance(region: region, identifier: identifier, deadline: invocation.deadline) == nil
                ? Self.outputs(identifier, final) : nil
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let arguments = RDSArguments(invocation)
        let region = try arguments.string("region"), identifier = try arguments.string("instance")
        let final = try finalSnapshot(arguments)
        return try await RDSActions.mapped {
            guard let current = try await rds.findDBInstance(region: region, identifier: identifier, deadline: invocation.deadline),
                  current.status != "deleting" else { return [:] }
            if current.status != "available" && current.status != "stopped" {
                _ = try await RDSActions.waiters(rds, invocation).instanceSettled(region: region, identifier: identifier,
                                                                                until: invocation.deadline)
            }
            do {
                _ = try await rds.deleteDBInstance(region: region, identifier: identifier, finalSnapshot: final, deadline: invocation.deadline)
            } catch let error as AWSServiceError where error.code.hasPrefix("DBInstanceNotFound") {}
            return [:]
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = RDSArguments(invocation)
        let region = try arguments.string("region"), identifier = try arguments.string("instance")
        let final = try finalSnapshot(arguments)
        return try await RDSActions.mapped {
            try await RDSActions.waiters(rds, invocation).instanceDeleted(region: region, identifier: identifier, until: invocation.deadline)
            return Self.outputs(identifier, final)
        }
    }

    static func outputs(_ identifier: String, _ final: RDSClient.FinalSnapshot) -> [String: RunValue] {
        var name = RunValue.null
        if case .named(let snapshot) = final { name = .string(snapshot) }
        return ["instance": .string(identifier), "deleted": .bool(true), "final_snapshot": name]
    }
}
