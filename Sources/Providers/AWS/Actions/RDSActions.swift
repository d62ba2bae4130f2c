import DRCore
import Foundation

/// The RDS operations a runbook can call (`aws.rds.*`), each observe / act / verify on top of
/// `RDSClient` and `RDSWaiters`. Every action takes `region`.
public enum RDSActions {
    public static func all(client: AWSClient) -> [any RunbookAction] {
        // One client and one lag reader for every action: their reads coalesce across steps.
        let rds = RDSClient(client: client), lag = RDSReplicaLag(client: client)
        return [
            RDSPromoteReadReplicaAction(rds: rds),
            RDSReplicaLagAction(lag: lag),
            RDSFenceInstanceAction(rds: rds),
            RDSCreateSnapshotAction(rds: rds),
            RDSCopySnapshotAction(rds: rds),
            RDSRestoreFromSnapshotAction(rds: rds),
            RDSRestoreToPointInTimeAction(rds: rds),
            RDSDeleteInstanceAction(rds: rds),
            RDSDeleteSnapshotAction(rds: rds),
            RDSCreateReadReplicaAction(rds: rds),
            RDSModifyInstanceAction(rds: rds),
            RDSGlobalClusterAction(rds: rds, kind: .failover),
            RDSGlobalClusterAction(rds: rds, kind: .switchover),
            RDSPreflightAction(rds: rds, lag: lag),
            RDSWaitReplicaCaughtUpAction(lag: lag),
        ]
    }

    /// At most this many RDS calls of one fan-out are in flight (RDS's control plane throttles
    /// bursts per account and region).
    static let fanOutLimit = 8

    static let region = ActionCatalog.Parameter("region", .string, required: true, help: "the AWS region the call goes to")

    /// Runs `body` for each item with at most `limit` running at once; results keyed by item.
    static func fanOut<T: Sendable>(_ items: [String], limit: Int = fanOutLimit,
                                    _ body: @escaping @Sendable (String) async throws -> T) async throws -> [String: T] {
        try await withThrowingTaskGroup(of: (String, T).self) { group in
            var results: [String: T] = [:]
            var pending = items[...]
            for _ in 0..<min(limit, items.count) {
                let item = pending.removeFirst()
                group.addTask { (item, try await body(item)) }
            }
            while let (item, value) = try await group.next() {
                results[item] = value
                if let next = pending.popFirst() { group.addTask { (next, try await body(next)) } }
            }
            return results
        }
    }

    /// Turns provider errors into the engine's kinds, keeping the AWS code and request id in the
    /// message (`AWSServiceError.description`); 5xx and exhausted retries are transient: every act
    /// here observes before it changes anything, so trying again is safe.
    static func mapped<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as AWSServiceError {
            switch error.category {
            case .throttling: throw ActionError(.throttling, error.description)
            case .transient: throw ActionError(.transient, error.description)
            default: throw ActionError(.permanent, error.description)
            }
        } catch let error as Waiter<RDSWaiters.Observation<DBInstance>>.TimedOut {
            throw ActionError(.timeout, error.description)
        } catch let error as Waiter<RDSWaiters.Observation<DBSnapshot>>.TimedOut {
            throw ActionError(.timeout, error.description)
        } catch let error as Waiter<RDSWaiters.Observation<DBInstance>>.Failed {
            throw ActionError(.permanent, error.description)
        } catch let error as Waiter<RDSWaiters.Observation<DBSnapshot>>.Failed {
            throw ActionError(.permanent, error.description)
        }
    }

    static func waiters(_ rds: RDSClient, _ invocation: ActionInvocation) -> RDSWaiters {
        RDSWaiters(rds: rds, clock: invocation.services.clock)
    }

    /// Outputs describing an instance: identifier, ARN, endpoint (`host:port`, and each part:
    /// `address`, `port`, which a drill's `url_template` is filled with), status.
    static func instanceOutputs(_ instance: DBInstance) -> [String: RunValue] {
        ["instance": .string(instance.identifier), "arn": instance.arn.map(RunValue.string) ?? .null,
         "endpoint": instance.endpoint.map(RunValue.string) ?? .null, "address": instance.endpointAddress.map(RunValue.string) ?? .null,
         "port": instance.endpointPort.map { .int($0) } ?? .null, "status": .string(instance.status)]
    }

    /// A valid RDS identifier from an idempotency token: letters, digits and single hyphens, starting
    /// with a letter, at most `limit` characters (63 for instances, 255 for snapshots).
    static func identifier(from token: String, prefix: String = "drctl", limit: Int = 63) -> String {
        var text = ""
        for character in (prefix + "-" + token).lowercased() {
            let allowed = character.isASCII && (character.isLetter || character.isNumber)
            let next: Character = allowed ? character : "-"
            if next == "-" && (text.isEmpty || text.hasSuffix("-")) { continue }
            text.append(next)
        }
        text = String(text.prefix(limit))
        while text.hasSuffix("-") { text.removeLast() }
        return text
    }

    static func isInvalidState(_ error: any Error) -> Bool {
        guard let error = error as? AWSServiceError else { return false }
        return error.code == "InvalidDBInstanceState" || error.code == "InvalidDBInstanceStateFault"
    }

    static func isNotFound(_ error: any Error) -> Bool {
        (error as? AWSServiceError)?.category == .notFound
    }

    static func isAlreadyExists(_ error: any Error) -> Bool {
        guard let error = error as? AWSServiceError else { return false }
        return error.code.contains("AlreadyExists")
    }
}

/// Typed reads of `with` arguments (DRCore's), with RDS tags.
typealias RDSArguments = ActionArguments

extension ActionArguments {
    func tags(_ key: String) throws -> [RDSTag] {
        switch values[key] {
        case nil, .null?: return []
        case .map(let map)?: return map.keys.sorted().map { RDSTag(key: $0, value: map[$0]!.description) }
        default: throw invalid(key, "a map of tag names to values")
        }
    }

}
