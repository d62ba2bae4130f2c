import DRCore
import Foundation

/// `aws.s3.replication-backlog`: samples `x-amz-replication-status` of the most recent objects,
/// the data a failover would lose if it cut over now.
struct ReplicationBacklogAction: RunbookAction {
    let s3: S3Client
    let name = "aws.s3.replication-backlog"
    let summary = "Samples the replication status of a bucket's most recent S3 objects: what a failover would lose if it cut over now."
    let permissions: [ActionPermission] = [
        .aws("s3:ListObjectsV2", iam: "s3:ListBucket"),
        .aws("s3:HeadObject", iam: "s3:GetObject"),
    ]
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [
        .init("region", .string, required: true), .init("bucket", .string, required: true),
        .init("prefix", .string), .init("sample", .int),
    ]
    /// HEADs in flight at once; S3 has no batch HEAD.
    let concurrency = 8

    func describe(_ arguments: [String: RunValue]) -> String {
        "sample the replication status of the newest \(arguments.argumentText("sample", "100")) objects of"
            + " s3://\(arguments.argumentText("bucket"))/\(arguments.argumentText("prefix", "")) (ListObjectsV2, HeadObject)"
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = StepArguments(invocation.arguments)
        let bucket = try arguments.string("bucket"), region = try arguments.string("region")
        let prefix = try arguments.optionalString("prefix")
        let sample = try arguments.optionalInt("sample") ?? 100
        guard sample > 0 else { throw ActionError(.permanent, "argument 'sample' must be positive") }
        let s3 = self.s3, concurrency = self.concurrency
        let now = invocation.services.clock.now()
        return try await AWSStepErrors.run {
            let listed = try await s3.listObjectsV2(bucket: bucket, prefix: prefix, region: region)
            let newest = listed.sorted { ($0.lastModified ?? .distantPast) > ($1.lastModified ?? .distantPast) }.prefix(sample)
            let heads = try await withThrowingTaskGroup(of: (S3ObjectSummary, String?).self) { group in
                var results: [(S3ObjectSummary, String?)] = []
                var iterator = newest.makeIterator()
                func addNext() {
                    guard let object = iterator.next() else { return }
                    group.addTask { (object, try await s3.headObject(bucket: bucket, key: object.key, region: region).replicationStatus) }
                }
                for _ in 0..<concurrency { addNext() }
                while let result = try await group.next() {
                    results.append(result)
                    addNext()
                }
                return results
            }
            let pending = heads.filter { $0.1 == "PENDING" }
            let oldestPending = pending.compactMap(\.0.lastModified).min()
            return ["pending": .int(pending.count), "failed": .int(heads.filter { $0.1 == "FAILED" }.count),
                    "completed": .int(heads.filter { $0.1 == "COMPLETED" }.count), "sampled": .int(heads.count),
                    "oldest_pending_age_seconds": .double(oldestPending.map { max(0, now.timeIntervalSince($0)) } ?? 0)]
        }
    }
}
