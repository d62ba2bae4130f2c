import DRCore
import Foundation

/// Every Google Cloud runbook action (`gcp.*`), bound to one lazily made client: their reads
/// coalesce across steps, and listing them (`drctl actions`) resolves no credentials.
public enum GCPActions {
    public static func all(source: GCPClientSource) -> [any RunbookAction] {
        let sql = CloudSQLClient(source: source), lag = CloudSQLReplicaLag(source: source), storage = StorageClient(source: source)
        let actions: [any RunbookAction] = [
            SQLRoleChangeAction(sql: sql, kind: .promote),
            SQLRoleChangeAction(sql: sql, kind: .switchover),
            SQLFailoverAction(sql: sql),
            SQLFenceAction(sql: sql),
            SQLReplicaLagAction(lag: lag),
            SQLCreateBackupAction(sql: sql),
            SQLCloneAction(sql: sql),
            SQLRestoreBackupAction(sql: sql),
            SQLDeleteInstanceAction(sql: sql),
            DNSSetRecordAction(dns: CloudDNSClient(source: source)),
            GKEScaleNodePoolAction(gke: GKEClient(source: source)),
            StorageTransferStatusAction(storage: storage),
            StorageBucketReplicationAction(storage: storage),
            StorageCanaryAction(storage: storage),
        ]
        return actions.map { GCPCallerScopedAction($0) }
    }

    /// Checked when the runbook loads (a constant) and again when the step runs (`GCPArguments.name`).
    static let resourceName = ActionCatalog.ArgumentCheck(.pattern("[A-Za-z0-9][A-Za-z0-9._:-]{0,252}"),
                                                          expected: "a Google resource name (letters, digits, '-', '_', '.', ':')")
    static let rfc3339 = ActionCatalog.ArgumentCheck(.pattern("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"),
                                                     expected: "an RFC 3339 time such as 2026-12-05T10:00:00Z")
    static let project = name("project", help: "the Google Cloud project id")
    static let instance = name("instance", help: "the Cloud SQL instance name")

    /// A required resource-name argument.
    static func name(_ key: String, help: String? = nil, required: Bool = true) -> ActionCatalog.Parameter {
        ActionCatalog.Parameter(key, .string, required: required, help: help, check: resourceName)
    }

    /// Turns provider errors into the engine's kinds, keeping Google's status and reason in the
    /// message (`GCPServiceError.description`). Throttling and 5xx (after the client's retries) and
    /// 409 `operationInProgress` are worth another attempt: every act here observes (or waits for
    /// what runs) before it changes anything. A 403 is permanent and names the permission wanted.
    static func mapped<T: Sendable>(_ permissions: [ActionPermission], _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as GCPServiceError {
            switch error.category {
            case .throttled: throw ActionError(.throttling, error.description)
            case .unavailable: throw ActionError(.transient, error.description)
            case .conflict where error.reason == "operationInProgress":
                throw ActionError(.transient, error.description + " (another operation runs on the instance; a retry waits for it)")
            case .permissionDenied:
                let wanted = permissions.filter { $0.operation == error.method }.map(\.name)
                let needs = wanted.isEmpty ? "" : " (needs \(wanted.joined(separator: ", ")))"
                throw ActionError(.permanent, "permission denied: " + error.description + needs)
            default: throw ActionError(.permanent, error.description)
            }
        } catch let error as TransportError {
            throw ActionError(error.isRetryable ? .transient : .permanent, error.description)
        } catch let error as GoogleAuthError {
            throw ActionError(error.kind == .unavailable ? .transient : .permanent, "Google credentials: \(error)")
        } catch let error as GCPResponseError {
            throw ActionError(.permanent, error.description)
        } catch let error as any GCPWaitTimedOut {
            throw ActionError(.timeout, error.description)
        } catch let error as any GCPWaitFailed {
            throw ActionError(.permanent, error.description)
        }
    }

    /// A name for what a run creates (a clone, a backup description), from its idempotency token:
    /// lowercase letters, digits and single hyphens, starting with a letter, at most `limit` long.
    static func resourceName(_ token: String, prefix: String, limit: Int = 63) -> String {
        var text = ""
        for character in (prefix + "-" + token).lowercased() {
            let next: Character = character.isASCII && (character.isLetter || character.isNumber) ? character : "-"
            if next == "-" && (text.isEmpty || text.hasSuffix("-")) { continue }
            text.append(next)
        }
        text = String(text.prefix(limit))
        while text.hasSuffix("-") { text.removeLast() }
        return text
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// `Waiter<T>.TimedOut` / `.Failed` for every T, so one `catch` maps them all.
protocol GCPWaitTimedOut: Error, CustomStringConvertible {}
protocol GCPWaitFailed: Error, CustomStringConvertible {}
extension Waiter.TimedOut: GCPWaitTimedOut {}
extension Waiter.Failed: GCPWaitFailed {}


/// Typed reads of `with` arguments (DRCore's), with Google resource names.
typealias GCPArguments = ActionArguments

extension ActionArguments {
    /// A Google resource name: letters, digits, `-`, `_`, `.` and `:` (domain-scoped projects).
    func name(_ key: String) throws -> String {
        let text = try string(key)
        guard text.count <= 253, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) }) else {
            throw invalid(key, "a Google resource name (letters, digits, '-', '_', '.', ':'), found '\(text.prefix(80))'")
        }
        return text
    }
}
