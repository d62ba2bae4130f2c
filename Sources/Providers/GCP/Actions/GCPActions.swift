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

extension Dictionary where Key == String, Value == RunValue {
    /// An argument for `describe` (no validation there: it only prints): `fallback` when absent or null.
    func gcpText(_ key: String, _ fallback: String = "?") -> String {
        guard let value = self[key], value != .null else { return fallback }
        return value.description
    }
}

/// Typed reads of `with` arguments, with errors that name the argument.
struct GCPArguments: Sendable {
    let values: [String: RunValue]

    init(_ invocation: ActionInvocation) { values = invocation.arguments }
    init(values: [String: RunValue]) { self.values = values }

    func string(_ key: String) throws -> String {
        guard let value = try optionalString(key) else { throw invalid(key, "a non-empty string") }
        return value
    }

    func optionalString(_ key: String) throws -> String? {
        switch values[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text.isEmpty ? nil : text
        default: throw invalid(key, "a string")
        }
    }

    /// A Google resource name: letters, digits, `-`, `_`, `.` and `:` (domain-scoped projects).
    func name(_ key: String) throws -> String {
        let text = try string(key)
        guard text.count <= 253, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) }) else {
            throw invalid(key, "a Google resource name (letters, digits, '-', '_', '.', ':'), found '\(text.prefix(80))'")
        }
        return text
    }

    func int(_ key: String) throws -> Int? {
        switch values[key] {
        case nil, .null?: return nil
        case .int(let value)?: return value
        case .double(let value)?: if let exact = Int(exactly: value) { return exact }; throw invalid(key, "an integer")
        case .string(let text)?: if let value = Int(text) { return value }; throw invalid(key, "an integer")
        default: throw invalid(key, "an integer")
        }
    }

    func bool(_ key: String) throws -> Bool? {
        switch values[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case .string("true")?: return true
        case .string("false")?: return false
        default: throw invalid(key, "true or false")
        }
    }

    func strings(_ key: String) throws -> [String] {
        switch values[key] {
        case .list(let items)?:
            return try items.map { item in
                guard case .string(let text) = item, !text.isEmpty else { throw invalid(key, "a list of non-empty strings") }
                return text
            }
        case .string(let text)? where !text.isEmpty: return [text]
        default: throw invalid(key, "a list of non-empty strings")
        }
    }

    func invalid(_ key: String, _ expected: String) -> ActionError {
        ActionError(.permanent, "argument '\(key)' must be \(expected)")
    }
}
