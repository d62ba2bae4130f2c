import DRCore
import Foundation

/// Secrets Manager checks (`aws.secretsmanager.*`). Applications in the DR region read their
/// credentials from a replica of each secret; without one, a failover moves traffic to an
/// application that cannot connect. Only metadata is read, never a secret's value.
public enum SecretsActions {
    public static func all(client: AWSClient) -> [any RunbookAction] {
        [SecretReplicaCheckAction(secrets: SecretsManagerClient(client: client))]
    }
}

/// `aws.secretsmanager.check-replica` (read-only): is `secret` readable in `region`, as a replica
/// of the secret in `primary_region`, and how does its replication stand? Reports `problems`
/// (blocking: missing, scheduled for deletion) and `notes` (replication failed or in progress, a
/// standalone secret of the same name, the primary region unreadable); never throws for them.
/// https://docs.aws.amazon.com/secretsmanager/latest/userguide/create-manage-multi-region-secrets.html
struct SecretReplicaCheckAction: RunbookAction {
    let secrets: SecretsManagerClient
    let name = "aws.secretsmanager.check-replica"
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [
        .init("region", .string, required: true), .init("secret", .string, required: true), .init("primary_region", .string, required: true),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        "check that secret \(arguments["secret"]?.description ?? "?") has a replica in \(arguments["region"]?.description ?? "?") "
            + "(Secrets Manager DescribeSecret there and in \(arguments["primary_region"]?.description ?? "?"); metadata only)"
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = StepArguments(invocation.arguments)
        let region = try arguments.string("region"), secret = try arguments.string("secret")
        let primaryRegion = try arguments.string("primary_region")
        let secrets = self.secrets, deadline = invocation.deadline
        // Both regions in one round trip; the primary's region may be the one that is down.
        async let primaryRead = Result.catching {
            primaryRegion == region ? nil : try await secrets.describeSecret(id: secret, region: primaryRegion, deadline: deadline)
        }
        var problems: [String] = [], notes: [String] = []
        var outputs: [String: RunValue] = ["replica_exists": .bool(false), "replication_status": .null]

        let here: SecretsManagerClient.SecretDescription?
        do {
            here = try await secrets.describeSecret(id: secret, region: region, deadline: deadline)
        } catch {
            here = nil
            problems.append("cannot read secret \(secret) in \(region): \(error)")
        }
        if let here {
            outputs["replica_exists"] = .bool(true)
            if here.deletedDate != nil {
                problems.append("secret \(secret) in \(region) is scheduled for deletion")
            }
            if region != primaryRegion {
                // DescribeSecret names a standalone (or primary) secret's own region as PrimaryRegion.
                if here.primaryRegion == nil || here.primaryRegion == region {
                    notes.append("secret \(secret) in \(region) is a standalone secret, not a replica of the one in \(primaryRegion): its value may differ")
                } else if here.primaryRegion != primaryRegion {
                    notes.append("secret \(secret) in \(region) replicates from \(here.primaryRegion!), not from \(primaryRegion)")
                }
            }
        } else if problems.isEmpty {
            problems.append("secret \(secret) has no replica in \(region): applications there cannot read it after the move "
                            + "(add one with ReplicateSecretToRegions)")
        }

        switch await primaryRead {
        case .success(let primary?):
            if let status = primary.replicationStatus?.first(where: { $0.region == region }) {
                outputs["replication_status"] = status.status.map(RunValue.string) ?? .null
                if status.status != "InSync" {
                    notes.append("replication of \(secret) to \(region) is \(status.status ?? "unknown")"
                                 + (status.statusMessage.map { ": \($0)" } ?? ""))
                }
            }
        case .success(nil):
            if region != primaryRegion { notes.append("secret \(secret) not found in \(primaryRegion)") }
        case .failure(let error):
            notes.append("secret \(secret) unreadable in \(primaryRegion): \(error)")
        }
        outputs["problems"] = .list(problems.map(RunValue.string))
        outputs["notes"] = .list(notes.map(RunValue.string))
        return outputs
    }
}
