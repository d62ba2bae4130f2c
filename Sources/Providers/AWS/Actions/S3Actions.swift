import DRCore
import Foundation

/// The S3 replication actions of a failover: configuration check, canary, backlog sample.
public enum S3Actions {
    public static func all(client: AWSClient) -> [any RunbookAction] {
        let s3 = S3Client(client: client)
        return [CheckReplicationAction(s3: s3), ReplicationCanaryAction(s3: s3), ReplicationBacklogAction(s3: s3)]
    }
}

/// What a replicated bucket pair looks like from the API, and what is wrong with it: a pure
/// function, so each rule of the check is testable without S3.
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html
struct ReplicationFindings: Sendable {
    var configuration: S3ReplicationConfiguration?
    var sourceVersioning: String?
    var destinationExists: Bool
    var destinationRegion: String?
    var destinationVersioning: String?

    func evaluate(bucket: String, destinationBucket: String, destinationRegion expectedRegion: String,
                  storageClass: String?) -> (ruleId: String?, problems: [String]) {
        var problems: [String] = []
        if sourceVersioning != "Enabled" {
            problems.append("source bucket \(bucket) has versioning \(sourceVersioning ?? "never enabled"), replication needs Enabled")
        }
        var chosen: S3ReplicationConfiguration.Rule?
        if let configuration {
            let toDestination = configuration.rules.filter { $0.destinationBucket == destinationBucket }
            // Prefer an enabled whole-bucket rule, then the highest priority (S3 applies that one on overlap).
            let ranked = toDestination.sorted {
                ($0.status == "Enabled" && $0.coversWholeBucket ? 1 : 0, $0.priority ?? 0)
                    > ($1.status == "Enabled" && $1.coversWholeBucket ? 1 : 0, $1.priority ?? 0)
            }
            chosen = ranked.first
            if let rule = chosen {
                let label = "rule \(rule.id ?? "(no id)")"
                if rule.status != "Enabled" { problems.append("\(label) is \(rule.status), not Enabled") }
                if !(rule.prefix ?? "").isEmpty { problems.append("\(label) covers only prefix '\(rule.prefix ?? "")', not the whole bucket") }
                if rule.filtersByTag { problems.append("\(label) filters by tag, so it does not cover every object") }
                if let storageClass {
                    let actual = rule.storageClass ?? "STANDARD"
                    if actual != storageClass { problems.append("\(label) replicates as \(actual), the plan says \(storageClass)") }
                }
            } else {
                let others = configuration.rules.map(\.destinationBucket).joined(separator: ", ")
                problems.append("no replication rule of \(bucket) targets \(destinationBucket)" + (others.isEmpty ? "" : " (rules target: \(others))"))
            }
        } else {
            problems.append("bucket \(bucket) has no replication configuration")
        }
        if !destinationExists {
            problems.append("destination bucket \(destinationBucket) does not exist")
        } else {
            if let region = destinationRegion, region != expectedRegion {
                problems.append("destination bucket \(destinationBucket) is in \(region), not \(expectedRegion)")
            }
            if destinationVersioning != "Enabled" {
                problems.append("destination bucket \(destinationBucket) has versioning \(destinationVersioning ?? "never enabled"), replication needs Enabled")
            }
        }
        return (chosen?.id, problems)
    }
}

/// `aws.s3.check-replication`: reports misconfiguration as `problems` (never throws for it), so a
/// preflight can list every problem at once; it throws only when S3 cannot be asked.
struct CheckReplicationAction: RunbookAction {
    let s3: S3Client
    let name = "aws.s3.check-replication"
    let summary = "Checks an S3 bucket's replication to a destination bucket (rule, versioning on both sides, destination region) and reports problems without changing anything."
    let permissions: [ActionPermission] = [
        .aws("s3:GetBucketReplication", iam: "s3:GetReplicationConfiguration"),
        .aws("s3:GetBucketVersioning"),
        .aws("s3:HeadBucket", iam: "s3:ListBucket"),
        .aws("s3:GetBucketLocation"),
    ]
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [
        .init("region", .string, required: true), .init("bucket", .string, required: true),
        .init("destination_bucket", .string, required: true), .init("destination_region", .string, required: true),
        .init("storage_class", .string),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        "check that \(arguments.argumentText("bucket")) replicates to \(arguments.argumentText("destination_bucket"))"
            + " in \(arguments.argumentText("destination_region")) (GetBucketReplication, GetBucketVersioning, HeadBucket, GetBucketLocation)"
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = StepArguments(invocation.arguments)
        let region = try arguments.string("region"), bucket = try arguments.string("bucket")
        let destination = try arguments.string("destination_bucket"), destinationRegion = try arguments.string("destination_region")
        let storageClass = try arguments.optionalString("storage_class")
        return try await AWSStepErrors.run {
            var findings = ReplicationFindings(destinationExists: false)
            findings.configuration = try await s3.getBucketReplication(bucket: bucket, region: region)
            findings.sourceVersioning = try await s3.getBucketVersioning(bucket: bucket, region: region)
            findings.destinationExists = try await s3.bucketExists(destination, region: destinationRegion)
            if findings.destinationExists {
                findings.destinationRegion = try await s3.getBucketLocation(bucket: destination, region: destinationRegion)
                findings.destinationVersioning = try await s3.getBucketVersioning(bucket: destination, region: destinationRegion)
            }
            let (ruleId, problems) = findings.evaluate(bucket: bucket, destinationBucket: destination,
                                                       destinationRegion: destinationRegion, storageClass: storageClass)
            return ["ok": .bool(problems.isEmpty), "rule_id": ruleId.map(RunValue.string) ?? .null,
                    "problems": .list(problems.map(RunValue.string))]
        }
    }
}
