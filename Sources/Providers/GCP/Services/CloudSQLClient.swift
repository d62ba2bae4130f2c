import DRCore
import Foundation

/// The Cloud SQL Admin API v1 calls the actions make
/// (https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances). Every mutating call
/// answers a `sql#operation`, which `wait` follows with the shared operation waiter.
public struct CloudSQLClient: Sendable {
    public let source: GCPClientSource

    public init(source: GCPClientSource) {
        self.source = source
    }

    static func instancePath(_ project: String, _ instance: String) -> String {
        "v1/projects/\(GCPPath.segment(project))/instances/\(GCPPath.segment(instance))"
    }

    /// `instances.get`; nil when the instance does not exist (404).
    public func instance(project: String, name: String, deadline: Date?) async throws -> SQLInstance? {
        do {
            return try await source.client().call(GCPRequest(service: .sqladmin, methodId: "sqladmin.instances.get", httpMethod: "GET",
                                                             path: Self.instancePath(project, name)), as: SQLInstance.self, deadline: deadline)
        } catch let error as GCPServiceError where error.category == .notFound {
            return nil
        }
    }

    /// A POST on the instance (`promoteReplica`, `switchover`, `failover`, `clone`, `backupRuns`):
    /// not idempotent, so the client resends it only when it provably never arrived.
    func post(_ method: String, project: String, instance: String, suffix: String, query: [(String, String)] = [],
              body: (any Encodable & Sendable)? = nil, deadline: Date?) async throws -> GCPOperation {
        let path = Self.instancePath(project, instance) + suffix
        let request = try body.map { try GCPRequest(service: .sqladmin, methodId: method, httpMethod: "POST", path: path, query: query, json: AnyEncodable($0)) }
            ?? GCPRequest(service: .sqladmin, methodId: method, httpMethod: "POST", path: path, query: query)
        return try await source.client().call(request, as: GCPOperation.self, deadline: deadline)
    }

    func promoteReplica(project: String, instance: String, deadline: Date?) async throws -> GCPOperation {
        try await post("sqladmin.instances.promoteReplica", project: project, instance: instance, suffix: "/promoteReplica", deadline: deadline)
    }

    func switchover(project: String, instance: String, deadline: Date?) async throws -> GCPOperation {
        try await post("sqladmin.instances.switchover", project: project, instance: instance, suffix: "/switchover", deadline: deadline)
    }

    /// HA failover; `settingsVersion` is the instance's current one (Cloud SQL refuses a stale one with 412).
    func failover(project: String, instance: String, settingsVersion: String, deadline: Date?) async throws -> GCPOperation {
        struct Body: Encodable, Sendable {
            struct Context: Encodable, Sendable { let kind = "sql#failoverContext"; let settingsVersion: String }
            let failoverContext: Context
        }
        return try await post("sqladmin.instances.failover", project: project, instance: instance, suffix: "/failover",
                              body: Body(failoverContext: .init(settingsVersion: settingsVersion)), deadline: deadline)
    }

    func insertBackup(project: String, instance: String, description: String, deadline: Date?) async throws -> GCPOperation {
        struct Body: Encodable, Sendable { let kind = "sql#backupRun"; let description: String }
        return try await post("sqladmin.backupRuns.insert", project: project, instance: instance, suffix: "/backupRuns",
                              body: Body(description: description), deadline: deadline)
    }

    func clone(project: String, source instance: String, destination: String, pointInTime: String?, deadline: Date?) async throws -> GCPOperation {
        struct Body: Encodable, Sendable {
            struct Context: Encodable, Sendable { let kind = "sql#cloneContext"; let destinationInstanceName: String; let pointInTime: String? }
            let cloneContext: Context
        }
        return try await post("sqladmin.instances.clone", project: project, instance: instance, suffix: "/clone",
                              body: Body(cloneContext: .init(destinationInstanceName: destination, pointInTime: pointInTime)), deadline: deadline)
    }

    /// `instances.restoreBackup`: the backup run `backupRunId` of `source` (in `sourceProject`)
    /// replaces the data of `instance`. Restoring twice would throw away what was written in
    /// between: the action finds its own RESTORE_VOLUME operation before it calls.
    func restoreBackup(project: String, instance: String, backupRunId: String, source: String, sourceProject: String,
                       deadline: Date?) async throws -> GCPOperation {
        struct Body: Encodable, Sendable {
            struct Context: Encodable, Sendable {
                let kind = "sql#restoreBackupContext"
                let backupRunId: String
                let instanceId: String
                let project: String
            }
            let restoreBackupContext: Context
        }
        return try await post("sqladmin.instances.restoreBackup", project: project, instance: instance, suffix: "/restoreBackup",
                              body: Body(restoreBackupContext: .init(backupRunId: backupRunId, instanceId: source, project: sourceProject)),
                              deadline: deadline)
    }

    /// `instances.patch` of `settings.activationPolicy` only (PATCH semantics: nothing else changes).
    func setActivationPolicy(project: String, instance: String, policy: String, deadline: Date?) async throws -> GCPOperation {
        struct Body: Encodable, Sendable {
            struct Settings: Encodable, Sendable { let activationPolicy: String }
            let settings: Settings
        }
        // Setting a policy twice sets it once: safe to resend.
        let request = try GCPRequest(service: .sqladmin, methodId: "sqladmin.instances.patch", httpMethod: "PATCH",
                                     path: Self.instancePath(project, instance), json: Body(settings: .init(activationPolicy: policy)),
                                     isIdempotent: true)
        return try await source.client().call(request, as: GCPOperation.self, deadline: deadline)
    }

    func delete(project: String, instance: String, deadline: Date?) async throws -> GCPOperation {
        try await source.client().call(GCPRequest(service: .sqladmin, methodId: "sqladmin.instances.delete", httpMethod: "DELETE",
                                                  path: Self.instancePath(project, instance)), as: GCPOperation.self, deadline: deadline)
    }

    func operation(project: String, name: String, deadline: Date?) async throws -> GCPOperation {
        try await source.client().call(GCPRequest(service: .sqladmin, methodId: "sqladmin.operations.get", httpMethod: "GET",
                                                  path: "v1/projects/\(GCPPath.segment(project))/operations/\(GCPPath.segment(name))"),
                                       as: GCPOperation.self, deadline: deadline)
    }

    /// The operations on `instance` that are not done, newest first (`operations.list?instance=`):
    /// what a crashed attempt may have left running. Only the first page: running operations are
    /// the newest, and Cloud SQL runs one mutating operation per instance at a time.
    func runningOperations(project: String, instance: String, deadline: Date?) async throws -> [SQLOperationEntry] {
        let list = try await source.client().call(GCPRequest(service: .sqladmin, methodId: "sqladmin.operations.list", httpMethod: "GET",
                                                             path: "v1/projects/\(GCPPath.segment(project))/operations",
                                                             query: [("instance", instance), ("maxResults", "20")]),
                                                  as: SQLOperationList.self, deadline: deadline)
        return (list.items ?? []).filter { !$0.isDone }
    }

    /// The operation of `type` on `instance` that this step started, if any: the newest one inserted
    /// since the step first started (less a few seconds of clock skew), running or done. This is how
    /// a retry or a resume after a crash finds a call whose answer it never saw, instead of calling
    /// again (a second HA failover would fail back; a second promote would fail or be a no-op).
    func ownOperation(project: String, instance: String, type: String, since: Date, deadline: Date?) async throws -> SQLOperationEntry? {
        let list = try await source.client().call(GCPRequest(service: .sqladmin, methodId: "sqladmin.operations.list", httpMethod: "GET",
                                                             path: "v1/projects/\(GCPPath.segment(project))/operations",
                                                             query: [("instance", instance), ("maxResults", "50")]),
                                                  as: SQLOperationList.self, deadline: deadline)
        let earliest = since.addingTimeInterval(-5)
        return (list.items ?? []).first { $0.operationType == type && ($0.inserted.map { $0 >= earliest } ?? false) }
    }

    /// Waits for the operation named `name` (found by `ownOperation` or `runningOperations`).
    func wait(named name: String, project: String, what: String, clock: any EngineClock, until deadline: Date) async throws -> GCPOperation {
        try await GCPOperationWaiter(what: what, clock: clock).wait(until: deadline) {
            try await self.operation(project: project, name: name, deadline: deadline)
        }
    }

    /// The instance's backup runs, newest first (first page).
    func backupRuns(project: String, instance: String, deadline: Date?) async throws -> [SQLBackupRun] {
        try await source.client().call(GCPRequest(service: .sqladmin, methodId: "sqladmin.backupRuns.list", httpMethod: "GET",
                                                  path: Self.instancePath(project, instance) + "/backupRuns", query: [("maxResults", "50")]),
                                       as: SQLBackupRunList.self, deadline: deadline).items ?? []
    }

    /// Waits for `operation` (as the mutating call answered it) until it is done; throws the waiter's
    /// typed failure when it ends with an error.
    func wait(_ operation: GCPOperation, project: String, what: String, clock: any EngineClock, until deadline: Date) async throws -> GCPOperation {
        guard let name = operation.name else { throw GCPResponseError(method: "sqladmin", detail: "an operation without a name") }
        return try await GCPOperationWaiter(what: what, clock: clock).wait(for: operation, until: deadline) {
            try await self.operation(project: project, name: name, deadline: deadline)
        }
    }

    /// Waits until `accept` holds for the instance (nil when it does not exist).
    func waitInstance(project: String, name: String, what: String, clock: any EngineClock, until deadline: Date,
                      accept: @escaping @Sendable (SQLInstance?) -> Waiter<SQLInstance?>.Verdict) async throws -> SQLInstance? {
        try await Waiter<SQLInstance?>(what: what, minimumDelay: 2, maximumDelay: 15, clock: clock, acceptor: accept)
            .wait(until: deadline) { try await self.instance(project: project, name: name, deadline: deadline) }
    }
}

/// Lets the client encode any request body through one `GCPRequest` initialiser.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
