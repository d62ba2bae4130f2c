import DRCore
import Foundation

/// Waits on DescribeDBInstances / DescribeDBSnapshots through the engine's `Waiter` (acceptors,
/// backoff with jitter, deadline). The acceptors follow botocore's `rds/waiters-2.json`
/// (`DBInstanceAvailable`, `DBInstanceDeleted`, `DBSnapshotAvailable`) plus drctl's own states
/// (stopped, promoted). A retryable error while polling (throttling, 5xx after the client's own
/// retries) is one more "not yet", not the end of the wait.
public struct RDSWaiters: Sendable {
    public let rds: RDSClient
    public let clock: any EngineClock
    public var minimumDelay: Double
    public var maximumDelay: Double

    public init(rds: RDSClient, clock: any EngineClock = SystemClock(), minimumDelay: Double = 1, maximumDelay: Double = 15) {
        self.rds = rds
        self.clock = clock
        self.minimumDelay = minimumDelay
        self.maximumDelay = maximumDelay
    }

    /// One poll: the resource (nil = not found), or why it could not be read this time.
    public struct Observation<Resource: Sendable & Equatable>: Sendable, CustomStringConvertible {
        public let resource: Resource?
        public let pollError: String?
        public var description: String { pollError ?? resource.map { "\($0)" } ?? "not found" }
    }

    /// States from which an instance will not become available by waiting.
    static let terminalInstanceStates: Set<String> = [
        "failed", "incompatible-restore", "incompatible-parameters", "incompatible-network", "storage-full",
        "inaccessible-encryption-credentials", "restore-error",
    ]

    public func instance(region: String, identifier: String, what: String, until deadline: Date,
                         accept: @escaping @Sendable (DBInstance?) -> Waiter<Observation<DBInstance>>.Verdict) async throws -> DBInstance? {
        let waiter = Waiter<Observation<DBInstance>>(what: what, minimumDelay: minimumDelay, maximumDelay: maximumDelay, clock: clock) {
            observation in
            if observation.pollError != nil { return .retry }
            return accept(observation.resource)
        }
        let rds = self.rds
        return try await waiter.wait(until: deadline) {
            try await Self.poll { try await rds.findDBInstance(region: region, identifier: identifier, deadline: deadline) }
        }.resource
    }

    /// `available` (botocore's DBInstanceAvailable).
    public func instanceAvailable(region: String, identifier: String, until deadline: Date) async throws -> DBInstance {
        try await instance(region: region, identifier: identifier, what: "\(identifier) in \(region) to be available", until: deadline) {
            Self.verdict($0, identifier: identifier) { $0.status == "available" }
        }!
    }

    /// `available` and no longer a replica: what PromoteReadReplica ends in.
    public func instancePromoted(region: String, identifier: String, until deadline: Date) async throws -> DBInstance {
        try await instance(region: region, identifier: identifier, what: "\(identifier) in \(region) to be promoted", until: deadline) {
            Self.verdict($0, identifier: identifier) { $0.status == "available" && $0.isStandalone }
        }!
    }

    public func instanceStopped(region: String, identifier: String, until deadline: Date) async throws -> DBInstance {
        try await instance(region: region, identifier: identifier, what: "\(identifier) in \(region) to be stopped", until: deadline) {
            Self.verdict($0, identifier: identifier) { $0.status == "stopped" }
        }!
    }

    /// Waits until no operation is under way on the instance (any steady state).
    public func instanceSettled(region: String, identifier: String, until deadline: Date) async throws -> DBInstance {
        try await instance(region: region, identifier: identifier, what: "\(identifier) in \(region) to settle", until: deadline) {
            Self.verdict($0, identifier: identifier) { ["available", "stopped"].contains($0.status) }
        }!
    }

    /// Gone (`DBInstanceNotFound`), as botocore's DBInstanceDeleted.
    public func instanceDeleted(region: String, identifier: String, until deadline: Date) async throws {
        _ = try await instance(region: region, identifier: identifier, what: "\(identifier) in \(region) to be deleted", until: deadline) {
            $0 == nil ? .success : .retry
        }
    }

    /// One poll: a retryable error (throttling, 5xx after the client's retries, a reset) is one
    /// more "not yet"; any other error ends the wait.
    static func poll<Resource>(_ read: () async throws -> Resource?) async throws -> Observation<Resource> {
        do {
            return Observation(resource: try await read(), pollError: nil)
        } catch let error as AWSServiceError where error.isRetryable {
            return Observation(resource: nil, pollError: error.description)
        } catch let error as TransportError where error.isRetryable {
            return Observation(resource: nil, pollError: error.description)
        }
    }

    static func verdict(_ instance: DBInstance?, identifier: String,
                        holds: (DBInstance) -> Bool) -> Waiter<Observation<DBInstance>>.Verdict {
        guard let instance else { return .failure("\(identifier) does not exist") }
        if holds(instance) { return .success }
        if terminalInstanceStates.contains(instance.status) || instance.status == "deleting" {
            return .failure("\(identifier) is \(instance.status)")
        }
        return .retry
    }

    /// `available` (botocore's DBSnapshotAvailable); a snapshot that disappears or fails ends the wait.
    public func snapshotAvailable(region: String, snapshot: String, until deadline: Date) async throws -> DBSnapshot {
        let waiter = Waiter<Observation<DBSnapshot>>(what: "snapshot \(snapshot) in \(region) to be available", minimumDelay: minimumDelay,
                                                     maximumDelay: maximumDelay, clock: clock) { observation in
            if observation.pollError != nil { return .retry }
            guard let found = observation.resource else { return .failure("snapshot \(snapshot) does not exist") }
            switch found.status {
            case "available": return .success
            case "failed", "deleted", "deleting", "incompatible-restore", "incompatible-parameters":
                return .failure("snapshot \(snapshot) is \(found.status)")
            default: return .retry
            }
        }
        let rds = self.rds
        return try await waiter.wait(until: deadline) {
            try await Self.poll { try await rds.findDBSnapshot(region: region, snapshot: snapshot, deadline: deadline) }
        }.resource!
    }

    /// Gone (`DBSnapshotNotFound`): after DeleteDBSnapshot.
    public func snapshotDeleted(region: String, snapshot: String, until deadline: Date) async throws {
        let waiter = Waiter<Observation<DBSnapshot>>(what: "snapshot \(snapshot) in \(region) to be deleted", minimumDelay: minimumDelay,
                                                     maximumDelay: maximumDelay, clock: clock) { observation in
            if observation.pollError != nil { return .retry }
            return observation.resource == nil ? .success : .retry
        }
        let rds = self.rds
        _ = try await waiter.wait(until: deadline) {
            try await Self.poll { try await rds.findDBSnapshot(region: region, snapshot: snapshot, deadline: deadline) }
        }
    }
}
