import DRCore
import Foundation

/// `gcp.storage.transfer-status` (read-only): the newest operation of a Storage Transfer Service
/// job (an S3 → GCS copy): its status, when it ended, how many objects failed. The newest finished
/// successful copy bounds what a failover to the GCS copy can lose.
struct StorageTransferStatusAction: RunbookAction {
    let storage: StorageClient
    let name = "gcp.storage.transfer-status"
    let summary = "Reads the newest operation of a Storage Transfer Service job (status, start and end time, objects copied and failed; age of the newest successful end). Outputs: operation, status, start_time, end_time, objects_copied, objects_failed, last_success_end_time, last_success_age_seconds."
    let permissions: [ActionPermission] = [.gcp("storagetransfer.operations.list", method: "storagetransfer.transferOperations.list")]
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [
        GCPActions.project, .init("job", .string, required: true, help: "the transfer job's name, transferJobs/…",
              check: .init(.pattern("transferJobs/[A-Za-z0-9._-]+"), expected: "a transfer job name such as transferJobs/123456789")),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        "transferOperations.list of job \(arguments.argumentText("job")) in project \(arguments.argumentText("project")), newest first"
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = GCPArguments(invocation)
        let project = try arguments.name("project"), job = try arguments.string("job")
        guard job.hasPrefix("transferJobs/"), job.count > "transferJobs/".count else {
            throw arguments.invalid("job", "a transfer job name such as transferJobs/123456789, found '\(job.prefix(80))'")
        }
        return try await GCPActions.mapped(permissions) {
            let operations = try await storage.transferOperations(project: project, job: job, deadline: invocation.deadline)
            guard let newest = operations.max(by: { ($0.startTime ?? "") < ($1.startTime ?? "") }) else {
                throw ActionError(.permanent, "transfer job \(job) has no operation yet: the copy's data-loss bound is unknown")
            }
            let success = operations.filter { $0.status == "SUCCESS" && $0.endTime != nil }.max { $0.endTime! < $1.endTime! }
            let successEnd = success?.endTime.flatMap(RFC3339.parse)
            let age = successEnd.map { max(0, invocation.services.clock.now().timeIntervalSince($0)) }
            return ["operation": newest.name.map(RunValue.string) ?? .null, "status": newest.status.map(RunValue.string) ?? .null,
                    "start_time": newest.startTime.map(RunValue.string) ?? .null, "end_time": newest.endTime.map(RunValue.string) ?? .null,
                    "objects_copied": .int(Int(newest.counters?.objectsCopiedToSink ?? "0") ?? 0),
                    "objects_failed": .int(Int(newest.counters?.objectsFromSourceFailed ?? "0") ?? 0),
                    "last_success_end_time": success?.endTime.map(RunValue.string) ?? .null,
                    "last_success_age_seconds": age.map(RunValue.double) ?? .null]
        }
    }
}

/// `gcp.storage.bucket-replication` (read-only): where a bucket keeps its data — location type,
/// and for a dual-region bucket whether turbo replication (`rpo: ASYNC_TURBO`, 15-minute RPO
/// target, https://cloud.google.com/storage/docs/availability-durability#turbo-replication) is on.
/// With `require_turbo: true` a bucket without turbo replication fails the step.
struct StorageBucketReplicationAction: RunbookAction {
    let storage: StorageClient
    let name = "gcp.storage.bucket-replication"
    let summary = "Reads a Cloud Storage bucket's location type and replication (rpo ASYNC_TURBO for dual-region turbo replication); require_turbo fails without it. Outputs: bucket, location, location_type, rpo, turbo, data_locations."
    let permissions: [ActionPermission] = [.gcp("storage.buckets.get", method: "storage.buckets.get")]
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [
        GCPActions.name("bucket"), .init("require_turbo", .bool, help: "fail unless the bucket is dual-region with rpo ASYNC_TURBO"),
    ]

    func describe(_ arguments: [String: RunValue]) -> String { "buckets.get \(arguments.argumentText("bucket"))" }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = GCPArguments(invocation)
        let bucketName = try arguments.name("bucket"), requireTurbo = try arguments.bool("require_turbo") ?? false
        return try await GCPActions.mapped(permissions) {
            let bucket = try await storage.bucket(bucketName, deadline: invocation.deadline)
            let turbo = bucket.locationType == "dual-region" && bucket.rpo == "ASYNC_TURBO"
            if requireTurbo && !turbo {
                throw ActionError(.permanent, "bucket \(bucketName) is \(bucket.locationType ?? "of unknown location type") with rpo \(bucket.rpo ?? "unset"): "
                                  + "turbo replication needs a dual-region bucket with rpo ASYNC_TURBO")
            }
            return ["bucket": .string(bucket.name), "location": bucket.location.map(RunValue.string) ?? .null,
                    "location_type": bucket.locationType.map(RunValue.string) ?? .null, "rpo": bucket.rpo.map(RunValue.string) ?? .null,
                    "turbo": .bool(turbo), "data_locations": .list((bucket.customPlacementConfig?.dataLocations ?? []).map(RunValue.string))]
        }
    }
}
