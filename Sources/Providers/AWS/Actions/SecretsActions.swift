import DRCore
import Foundation

/// Secrets Manager actions (`aws.secretsmanager.*`). Applications in the DR region read their
/// credentials from a replica of each secret; without one, a failover moves traffic to an
/// application that cannot connect. After a failover the replica can be promoted, so the secret
/// can be changed and rotated where the applications now run. Only metadata is read, never a
/// secret's value.
public enum SecretsActions {
    public static func all(client: AWSClient) -> [any RunbookAction] {
        let secrets = SecretsManagerClient(client: client)
        return [SecretReplicaCheckAction(secrets: secrets), SecretReplicaPromoteAction(secrets: secrets)]
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
    let summary = "Reads whether a Secrets Manager secret is replicated into a region and how its replication stands (metadata only, never the value)."
    let permissions: [ActionPermission] = [
        .aws("secretsmanager:DescribeSecret", note: "in the region and the primary region"),
    ]
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [
        .init("region", .string, required: true), .init("secret", .string, required: true), .init("primary_region", .string, required: true),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        "check that secret \(arguments.argumentText("secret")) has a replica in \(arguments.argumentText("region")) "
            + "(Secrets Manager DescribeSecret there and in \(arguments.argumentText("primary_region")); metadata only)"
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
                if here.isStandalone(in: region) {
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

/// `aws.secretsmanager.promote-replica` (mutating): makes the replica of `secret` in `region` a
/// standalone secret (StopReplicationToReplica, sent to `region` itself: it needs nothing from
/// the primary's region, which may be down). Until then a replica is read-only: nobody can change
/// or rotate it, and rotation keeps running against the old region's secret. Promotion cannot be
/// undone (replicating back is a new ReplicateSecretToRegions from the new primary), and rotation
/// must be set up on the promoted secret: `rotation_enabled` in the outputs says how it stands.
/// Outputs: `standalone` (true), `arn`, `rotation_enabled`, and `promoted_from` — the primary's
/// region when this attempt promoted it, null when it was standalone already or was found so on resume.
/// https://docs.aws.amazon.com/secretsmanager/latest/userguide/standalone.html
struct SecretReplicaPromoteAction: RunbookAction {
    let secrets: SecretsManagerClient
    let name = "aws.secretsmanager.promote-replica"
    let summary = "Promotes a Secrets Manager replica secret to a standalone secret in its region (metadata only, never the value)."
    let permissions: [ActionPermission] = [
        .aws("secretsmanager:DescribeSecret"),
        .aws("secretsmanager:StopReplicationToReplica"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [.init("region", .string, required: true), .init("secret", .string, required: true)]

    func describe(_ arguments: [String: RunValue]) -> String {
        "promote the replica of secret \(arguments.argumentText("secret")) in \(arguments.argumentText("region")) "
            + "to a standalone secret (Secrets Manager StopReplicationToReplica there)"
    }

    private func target(_ invocation: ActionInvocation) throws -> (region: String, secret: String) {
        let arguments = StepArguments(invocation.arguments)
        return (try arguments.string("region"), try arguments.string("secret"))
    }

    /// The secret in `region`: standalone (done), a replica (to promote), or missing (an error:
    /// there is nothing to promote, and a failover's preflight would have said so).
    private func read(_ region: String, _ secret: String, deadline: Date) async throws -> SecretsManagerClient.SecretDescription {
        guard let found = try await secrets.describeSecret(id: secret, region: region, deadline: deadline) else {
            throw ActionError(.permanent, "secret \(secret) does not exist in \(region): there is no replica to promote")
        }
        return found
    }

    private static func outputs(_ secret: SecretsManagerClient.SecretDescription, promotedFrom: String?) -> [String: RunValue] {
        ["standalone": .bool(true), "arn": secret.arn.map(RunValue.string) ?? .null,
         "promoted_from": promotedFrom.map(RunValue.string) ?? .null, "rotation_enabled": .bool(secret.rotationEnabled ?? false)]
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        // A first try goes straight to act, which reads the secret before it calls anyway.
        if invocation.isFirstTry { return nil }
        let (region, secret) = try target(invocation)
        let found = try await AWSStepErrors.run { try await read(region, secret, deadline: invocation.deadline) }
        return found.isStandalone(in: region) ? Self.outputs(found, promotedFrom: nil) : nil
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let (region, secret) = try target(invocation)
        let before = try await AWSStepErrors.run { try await read(region, secret, deadline: invocation.deadline) }
        if before.isStandalone(in: region) { return ["promoted_from": .null] }
        do {
            try await AWSStepErrors.run(acting: true) {
                try await secrets.stopReplicationToReplica(id: secret, region: region, deadline: invocation.deadline)
            }
        } catch {
            // A retry after a call that landed but was not answered (a 5xx) finds the secret standalone
            // already, and Secrets Manager refuses again (InvalidRequestException): look before failing.
            let now = try? await read(region, secret, deadline: invocation.deadline)
            guard let now, now.isStandalone(in: region) else { throw error }
        }
        return ["promoted_from": before.primaryRegion.map(RunValue.string) ?? .null]
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let (region, secret) = try target(invocation)
        let secrets = self.secrets
        let waiter = Waiter<SecretsManagerClient.SecretDescription?>(
            what: "secret \(secret) in \(region) to be standalone", minimumDelay: 1, maximumDelay: 10, clock: invocation.services.clock
        ) { found in
            guard let found else { return .failure("secret \(secret) is gone from \(region)") }
            return found.isStandalone(in: region) ? .success : .retry
        }
        let promoted = try await AWSStepErrors.run {
            try await waiter.wait(until: invocation.deadline) {
                try await secrets.describeSecret(id: secret, region: region, deadline: invocation.deadline)
            }
        }
        return Self.outputs(promoted!, promotedFrom: acted["promoted_from"]?.stringValue)
    }
}
