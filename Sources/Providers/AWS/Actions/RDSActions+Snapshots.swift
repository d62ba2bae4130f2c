import DRCore
import Foundation

/// `aws.rds.create-snapshot`: a manual snapshot named after the run and step unless named.
struct RDSCreateSnapshotAction: RunbookAction {
    let rds: RDSClient
    let name = "aws.rds.create-snapshot"
    let summary = "Creates a manual RDS snapshot of an instance, named after the run and step unless named, and waits until it is available."
    let permissions: [ActionPermission] = [
        .aws("rds:DescribeDBSnapshots"),
        .aws("rds:DescribeDBInstances"),
        .aws("rds:CreateDBSnapshot"),
        .aws("rds:AddTagsToResource", note: "IAM checks it for the tags given at creation"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [RDSActions.region, .init("instance", .string, required: true), .init("snapshot", .string),
                                                 .init("tags", .map)]

    func describe(_ arguments: [String: RunValue]) -> String {
        "CreateDBSnapshot of \(arguments.argumentText("instance")) in \(arguments.argumentText("region")) named "
            + "\(arguments.argumentText("snapshot", "drctl-<run>-<step>")) (unless it exists), then DescribeDBSnapshots until available"
    }

    private func snapshotName(_ invocation: ActionInvocation) throws -> String {
        try RDSArguments(invocation).optionalString("snapshot") ?? RDSActions.identifier(from: invocation.idempotencyToken, limit: 255)
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let region = try RDSArguments(invocation).string("region"), snapshot = try snapshotName(invocation)
        return try await RDSActions.mapped {
            guard let found = try await rds.findDBSnapshot(region: region, snapshot: snapshot, deadline: invocation.deadline),
                  found.status == "available" else { return nil }
            return Self.outputs(found)
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let arguments = RDSArguments(invocation)
        let region = try arguments.string("region"), instance = try arguments.string("instance"), snapshot = try snapshotName(invocation)
        return try await RDSActions.mapped {
            if let existing = try await rds.findDBSnapshot(region: region, snapshot: snapshot, deadline: invocation.deadline) {
                guard existing.instanceIdentifier == nil || existing.instanceIdentifier == instance else {
                    throw ActionError(.permanent, "snapshot \(snapshot) in \(region) already exists for another instance "
                                      + "(\(existing.instanceIdentifier ?? "?"))")
                }
                return [:]
            }
            // A busy instance rejects CreateDBSnapshot; wait for it to settle.
            _ = try await RDSActions.waiters(rds, invocation).instanceAvailable(region: region, identifier: instance, until: invocation.deadline)
            do {
                let tags = [RDSTag(key: "drctl:run", value: invocation.runId)] + (try arguments.tags("tags")).filter { $0.key != "drctl:run" }
                _ = try await rds.createDBSnapshot(region: region, instance: instance, snapshot: snapshot,
                                                   tags: tags, deadline: invocation.deadline)
            } catch where RDSActions.isAlreadyExists(error) {}
            return [:]
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let region = try RDSArguments(invocation).string("region"), snapshot = try snapshotName(invocation)
        return try await RDSActions.mapped {
            Self.outputs(try await RDSActions.waiters(rds, invocation).snapshotAvailable(region: region, snapshot: snapshot,
                                                                                      until: invocation.deadline))
        }
    }

    static func outputs(_ snapshot: DBSnapshot) -> [String: RunValue] {
        ["snapshot": .string(snapshot.identifier), "arn": snapshot.arn.map(RunValue.string) ?? .null,
         "encrypted": .bool(snapshot.encrypted)]
    }
}

/// `aws.rds.copy-snapshot`: copies a snapshot from `source_region` into `region` (the DR side).
/// An encrypted source needs `kms_key_id` of a key in the destination region.
struct RDSCopySnapshotAction: RunbookAction {
    let rds: RDSClient
    let name = "aws.rds.copy-snapshot"
    let summary = "Copies an RDS snapshot from another region into this one (re-encrypted with a key of this region when encrypted) and waits until the copy is available."
    let permissions: [ActionPermission] = [
        .aws("rds:DescribeDBSnapshots"),
        .aws("rds:CopyDBSnapshot", note: "in the source region too: the presigned URL calls it there"),
        .aws("rds:AddTagsToResource", note: "IAM checks it for the tags given at creation"),
        .aws("kms:CreateGrant", note: "with kms_key_id: RDS uses the key on the caller's behalf"),
        .aws("kms:DescribeKey", note: "with kms_key_id"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        RDSActions.region, .init("source_region", .string, required: true), .init("source_snapshot_arn", .string, required: true),
        .init("target_snapshot", .string), .init("kms_key_id", .string),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        let kms = arguments["kms_key_id"].map { " KmsKeyId=\($0)" } ?? ""
        return "CopyDBSnapshot \(arguments.argumentText("source_snapshot_arn")) from \(arguments.argumentText("source_region")) into "
            + "\(arguments.argumentText("region")) as \(arguments.argumentText("target_snapshot", "drctl-<run>-<step>")) "
            + "(PreSignedUrl for the source region, CopyTags\(kms)), then DescribeDBSnapshots until available"
    }

    private func targetName(_ invocation: ActionInvocation) throws -> String {
        try RDSArguments(invocation).optionalString("target_snapshot")
            ?? RDSActions.identifier(from: invocation.idempotencyToken, limit: 255)
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let region = try RDSArguments(invocation).string("region"), target = try targetName(invocation)
        return try await RDSActions.mapped {
            guard let found = try await rds.findDBSnapshot(region: region, snapshot: target, deadline: invocation.deadline),
                  found.status == "available" else { return nil }
            return RDSCreateSnapshotAction.outputs(found)
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let arguments = RDSArguments(invocation)
        let region = try arguments.string("region"), sourceRegion = try arguments.string("source_region")
        let source = try arguments.string("source_snapshot_arn"), target = try targetName(invocation)
        let kmsKeyId = try arguments.optionalString("kms_key_id")
        return try await RDSActions.mapped {
            if try await rds.findDBSnapshot(region: region, snapshot: target, deadline: invocation.deadline) != nil { return [:] }
            if kmsKeyId == nil, sourceRegion != region,
               let original = try? await rds.findDBSnapshot(region: sourceRegion, snapshot: source, deadline: invocation.deadline),
               original.encrypted {
                throw ActionError(.permanent, "\(source) is encrypted: copying it into \(region) needs 'kms_key_id' of a KMS key "
                                  + "in \(region) (KMS keys are regional)")
            }
            do {
                _ = try await rds.copyDBSnapshot(region: region, sourceRegion: sourceRegion, sourceSnapshot: source, targetSnapshot: target,
                                                 kmsKeyId: kmsKeyId, copyTags: true,
                                                 tags: [RDSTag(key: "drctl:run", value: invocation.runId)], deadline: invocation.deadline)
            } catch where RDSActions.isAlreadyExists(error) {}
            return [:]
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let region = try RDSArguments(invocation).string("region"), target = try targetName(invocation)
        return try await RDSActions.mapped {
            RDSCreateSnapshotAction.outputs(try await RDSActions.waiters(rds, invocation).snapshotAvailable(
                region: region, snapshot: target, until: invocation.deadline))
        }
    }
}
