import DRCore
import Foundation

/// `aws.s3.replication-canary`: writes one small object and times it until S3 reports it
/// COMPLETED on the source and it is readable at the destination — the measured replication
/// latency is the RPO evidence for the bucket pair.
struct ReplicationCanaryAction: RunbookAction {
    let s3: S3Client
    let name = "aws.s3.replication-canary"
    let summary = "Writes one small object to a replicated S3 bucket and measures how long until it is replicated and readable at the destination."
    let permissions: [ActionPermission] = [
        .aws("s3:PutObject"),
        .aws("s3:HeadObject", iam: "s3:GetObject", note: "on the source and the destination bucket"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        .init("region", .string, required: true), .init("bucket", .string, required: true),
        .init("destination_bucket", .string, required: true), .init("destination_region", .string, required: true),
    ]

    /// The key derives from run and step, so a retried or resumed step rewrites the same object.
    static func key(for token: String) -> String {
        let safe = token.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "-" }
        return "drctl-canary/" + String(safe)
    }

    func describe(_ arguments: [String: RunValue]) -> String {
        let bucket = arguments.argumentText("bucket"), destination = arguments.argumentText("destination_bucket")
        return "PutObject s3://\(bucket)/drctl-canary/<run-step> in \(arguments.argumentText("region")), then HeadObject on it"
            + " until x-amz-replication-status is COMPLETED and HeadObject on s3://\(destination) in"
            + " \(arguments.argumentText("destination_region")) until the replica is readable"
    }

    /// Never "already done": a latency is evidence only when measured now, and rewriting the
    /// same key is harmless.
    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? { nil }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let arguments = StepArguments(invocation.arguments)
        let bucket = try arguments.string("bucket"), region = try arguments.string("region")
        let key = Self.key(for: invocation.idempotencyToken)
        let writtenAt = invocation.services.clock.now()
        _ = try await AWSStepErrors.run(acting: true) {
            try await s3.putObject(bucket: bucket, key: key, body: Array("drctl replication canary \(invocation.idempotencyToken)\n".utf8),
                                   region: region, contentType: "text/plain")
        }
        return ["key": .string(key), "written_at": .double(writtenAt.timeIntervalSince1970)]
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = StepArguments(invocation.arguments)
        let bucket = try arguments.string("bucket"), region = try arguments.string("region")
        let destination = try arguments.string("destination_bucket"), destinationRegion = try arguments.string("destination_region")
        let key = Self.key(for: invocation.idempotencyToken)
        let clock = invocation.services.clock
        let s3 = self.s3
        return try await AWSStepErrors.run {
            // Resumed after the write: time from the object's own timestamp instead.
            var writtenAt = acted["written_at"]?.secondsValue.map(Date.init(timeIntervalSince1970:))
            if writtenAt == nil {
                writtenAt = try await s3.headObject(bucket: bucket, key: key, region: region).lastModified.flatMap(S3Timestamp.parse)
            }
            let source = Waiter<String>(what: "s3://\(bucket)/\(key) replication COMPLETED", minimumDelay: 0.25, maximumDelay: 2,
                                        clock: clock) { status in
                switch status {
                case "COMPLETED": return .success
                case "FAILED": return .failure("S3 reports replication FAILED (is the destination bucket there, versioned, and the role allowed?)")
                case "": return .failure("S3 did not mark the canary for replication: no enabled rule covers drctl-canary/")
                default: return .retry
                }
            }
            _ = try await source.wait(until: invocation.deadline) {
                try await s3.headObject(bucket: bucket, key: key, region: region).replicationStatus ?? ""
            }
            let replica = Waiter<Bool>(what: "replica s3://\(destination)/\(key) readable", minimumDelay: 0.25, maximumDelay: 2,
                                       clock: clock) { $0 ? .success : .retry }
            _ = try await replica.wait(until: invocation.deadline) {
                do {
                    _ = try await s3.headObject(bucket: destination, key: key, region: destinationRegion)
                    return true
                } catch let error as AWSServiceError where error.httpStatus == 404 {
                    return false
                }
            }
            let latency = clock.now().timeIntervalSince(writtenAt ?? clock.now())
            return ["latency_seconds": .double((latency * 1000).rounded() / 1000), "key": .string(key)]
        }
    }
}
