import DRCore
import Foundation

/// `gcp.storage.canary`: writes one small object into the source bucket and times it until the
/// same bytes are readable in the destination bucket — the copy's measured latency is the RPO
/// evidence of a Storage Transfer job or any other bucket-to-bucket copy, as
/// `aws.s3.replication-canary` is for S3 replication. (A dual-region bucket's replication cannot be
/// timed this way: reading the bucket back is served from either region, so it would measure
/// nothing; `gcp.storage.bucket-replication` checks its turbo setting instead.)
struct StorageCanaryAction: RunbookAction {
    let storage: StorageClient
    let name = "gcp.storage.canary"
    let summary = "Writes one small object into a Cloud Storage bucket and measures how long until the same bytes are readable in the destination bucket (a transfer job's or copy's latency). Outputs: key, latency_seconds, written_at, arrived_at, destination_generation."
    let permissions: [ActionPermission] = [
        .gcp("storage.objects.create", method: "storage.objects.insert"),
        .gcp("storage.objects.get", method: "storage.objects.get", note: "on the source and the destination bucket"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        GCPActions.name("bucket", help: "the bucket the copy reads from"),
        GCPActions.name("destination_bucket", help: "the bucket the copy writes to"),
        .init("prefix", .string, help: "where the canary objects go (default drctl-canary/; the copy must include it)",
              check: .init(.pattern("[A-Za-z0-9._/-]{1,200}"), expected: "an object name prefix (letters, digits, '.', '_', '-', '/')")),
    ]

    static let defaultPrefix = "drctl-canary/"

    /// The name derives from run and step: a retried or resumed step rewrites, and waits for, the same object.
    static func key(prefix: String, token: String) -> String {
        prefix + String(token.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "-" })
    }

    func describe(_ arguments: [String: RunValue]) -> String {
        let prefix = arguments.argumentText("prefix", Self.defaultPrefix)
        return "objects.insert gs://\(arguments.argumentText("bucket"))/\(prefix)<run-step>, then objects.get on gs://\(arguments.argumentText("destination_bucket"))/\(prefix)<run-step> "
            + "until the same bytes are there"
    }

    /// Never "already done": a latency is evidence only when measured now, and rewriting the same object is harmless.
    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? { nil }

    private func names(_ invocation: ActionInvocation) throws -> (bucket: String, destination: String, key: String) {
        let arguments = GCPArguments(invocation)
        let bucket = try arguments.name("bucket"), destination = try arguments.name("destination_bucket")
        let prefix = try arguments.optionalString("prefix") ?? Self.defaultPrefix
        guard prefix.count <= 200, prefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._/-".contains($0)) }) else {
            throw arguments.invalid("prefix", "an object name prefix (letters, digits, '.', '_', '-', '/'), found '\(prefix.prefix(80))'")
        }
        guard bucket != destination else { throw arguments.invalid("destination_bucket", "another bucket than 'bucket' (a bucket read back from itself measures nothing)") }
        return (bucket, destination, Self.key(prefix: prefix, token: invocation.idempotencyToken))
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let (bucket, _, key) = try names(invocation)
        let before = invocation.services.clock.now()
        return try await GCPActions.mapped(permissions) {
            let written = try await storage.insertObject(bucket: bucket, name: key, body: Data("drctl copy canary \(invocation.idempotencyToken)\n".utf8),
                                                         contentType: "text/plain", deadline: invocation.deadline)
            // The service's own creation time (the destination's is on the same clock), else ours.
            let writtenAt = written.timeCreated.flatMap(RFC3339.parse) ?? before
            return ["key": .string(key), "written_at": .double(writtenAt.timeIntervalSince1970), "md5": written.md5Hash.map(RunValue.string) ?? .null]
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let (bucket, destination, key) = try names(invocation)
        let clock = invocation.services.clock, storage = self.storage
        return try await GCPActions.mapped(permissions) {
            var writtenAt = acted["written_at"]?.secondsValue.map(Date.init(timeIntervalSince1970:))
            var md5 = acted["md5"]?.stringValue
            if writtenAt == nil || md5 == nil {
                // Resumed after the write: the source object says when and what.
                guard let source = try await storage.object(bucket: bucket, name: key, deadline: invocation.deadline) else {
                    throw ActionError(.permanent, "the canary gs://\(bucket)/\(key) is not there (deleted, or never written)")
                }
                writtenAt = writtenAt ?? source.timeCreated.flatMap(RFC3339.parse)
                md5 = md5 ?? source.md5Hash
            }
            let expected = md5
            let arrived = try await Waiter<StorageClient.Object?>(what: "gs://\(destination)/\(key) to arrive", minimumDelay: 0.25, maximumDelay: 5,
                                                                  clock: clock) { object in
                guard let object else { return .retry }
                // Until the copy has the bytes written now, an older object of the same name is not the arrival.
                return expected == nil || object.md5Hash == expected ? .success : .retry
            }.wait(until: invocation.deadline) {
                try await storage.object(bucket: destination, name: key, deadline: invocation.deadline)
            }!
            let seen = clock.now()
            let arrivedAt = arrived.timeCreated.flatMap(RFC3339.parse).map { min($0, seen) } ?? seen
            let start = writtenAt ?? arrivedAt
            let latency = max(0, arrivedAt.timeIntervalSince(start))
            return ["key": .string(key), "latency_seconds": .double((latency * 1000).rounded() / 1000),
                    "written_at": .string(GCPActions.timestamp(start)), "arrived_at": .string(GCPActions.timestamp(arrivedAt)),
                    "destination_generation": arrived.generation.map(RunValue.string) ?? .null]
        }
    }
}
