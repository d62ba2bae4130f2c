import DRCore
import Foundation

/// `aws.rds.fence-instance`: stops the old primary from taking writes, so that the promoted
/// replica is the only writer. Methods: `stop` (StopDBInstance), `parameter-group` (ModifyDBInstance
/// onto a parameter group, e.g. with `read_only=1`, applied immediately), `reboot-read-only` (the
/// same, then RebootDBInstance so static parameters apply too) and `security-group`
/// (ModifyDBInstance onto VPC security groups that admit no clients, applied immediately, then
/// RebootDBInstance: security groups stop new connections only, and the reboot ends the open
/// ones; it works on a primary that has replicas, which RDS refuses to stop). A resumed
/// security-group fence reboots again: it cannot tell whether the first reboot happened, and a
/// second one on an isolated instance costs nothing.
/// When the old region cannot be reached (transport errors or 5xx after the client's retries), the
/// step does not fail: it reports `fenced: false, confirmed: false`, why (`reason`), and the same
/// reason as `degraded`, so the failover goes on and ends `degraded`, its summary saying fencing
/// was not confirmed. Any other failure (denied, not found, an instance RDS will not stop) fails
/// the step: the move must not promote past a primary that may still take writes.
/// RDS refuses to stop a read replica or an instance that has read replicas
/// (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html#USER_StopInstance.Limitations):
/// `stop` fails at once with the fix rather than retrying a call that cannot succeed.
struct RDSFenceInstanceAction: RunbookAction {
    let rds: RDSClient
    let name = "aws.rds.fence-instance"
    let summary = "Stops an old RDS primary from taking writes (stop, a read-only parameter group, or security groups plus a reboot) and waits until the fence holds."
    let permissions: [ActionPermission] = [
        .aws("rds:DescribeDBInstances"),
        .aws("rds:StopDBInstance", note: "method stop"),
        .aws("rds:ModifyDBInstance", note: "methods parameter-group, reboot-read-only and security-group"),
        .aws("rds:RebootDBInstance", note: "methods reboot-read-only and security-group"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        RDSActions.region, .init("instance", .string, required: true), .init("method", .string), .init("parameter_group", .string),
        .init("security_groups", .list),
    ]

    enum Method: String {
        case stop, parameterGroup = "parameter-group", rebootReadOnly = "reboot-read-only", securityGroup = "security-group"
    }

    func describe(_ arguments: [String: RunValue]) -> String {
        let instance = arguments.argumentText("instance"), region = arguments.argumentText("region"), group = arguments.argumentText("parameter_group")
        switch Method(rawValue: arguments["method"]?.stringValue ?? "stop") {
        case .stop?:
            return "StopDBInstance \(instance) in \(region), then DescribeDBInstances until stopped"
        case .parameterGroup?:
            return "ModifyDBInstance \(instance) in \(region) DBParameterGroupName=\(group) ApplyImmediately=true, "
                + "then DescribeDBInstances until available on that group"
        case .rebootReadOnly?:
            return "ModifyDBInstance \(instance) in \(region) DBParameterGroupName=\(group) ApplyImmediately=true, "
                + "RebootDBInstance, then DescribeDBInstances until available with the group in-sync"
        case .securityGroup?:
            return "ModifyDBInstance \(instance) in \(region) VpcSecurityGroupIds=\(arguments.argumentText("security_groups")) "
                + "ApplyImmediately=true, RebootDBInstance (ends open connections), then DescribeDBInstances until available "
                + "with exactly those groups active"
        case nil:
            return "fence \(instance) in \(region) (unknown method \(arguments.argumentText("method")))"
        }
    }

    private struct Request {
        let region: String
        let instance: String
        let method: Method
        let parameterGroup: String?
        let securityGroups: [String]
    }

    private func request(_ invocation: ActionInvocation) throws -> Request {
        let arguments = RDSArguments(invocation)
        let text = try arguments.optionalString("method") ?? "stop"
        guard let method = Method(rawValue: text) else {
            throw ActionError(.permanent, "argument 'method' must be stop, parameter-group, reboot-read-only or security-group (got \(text))")
        }
        let group = try arguments.optionalString("parameter_group")
        if (method == .parameterGroup || method == .rebootReadOnly) && group == nil {
            throw ActionError(.permanent, "method \(text) needs argument 'parameter_group'")
        }
        let securityGroups = invocation.arguments["security_groups"] == nil ? [] : try arguments.strings("security_groups")
        if method == .securityGroup && securityGroups.isEmpty {
            throw ActionError(.permanent, "method security-group needs argument 'security_groups' (the isolating VPC security groups)")
        }
        return Request(region: try arguments.string("region"), instance: try arguments.string("instance"), method: method,
                       parameterGroup: group, securityGroups: securityGroups)
    }

    private func isFenced(_ instance: DBInstance, _ request: Request) -> Bool {
        switch request.method {
        case .stop:
            return instance.status == "stopped"
        case .parameterGroup:
            return instance.status == "available" && instance.parameterGroups.contains { $0.name == request.parameterGroup }
        case .rebootReadOnly:
            return instance.status == "available"
                && instance.parameterGroups.contains { $0.name == request.parameterGroup && $0.applyStatus == "in-sync" }
        case .securityGroup:
            return instance.status == "available" && Set(instance.vpcSecurityGroupIds) == Set(request.securityGroups)
                && instance.vpcSecurityGroupsActive
        }
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let request = try request(invocation)
        // A first try changes at once (act): RDS refuses a stop or a change of an instance that is
        // stopped or busy, and only then does act look. A security-group fence always acts: its
        // reboot leaves no trace to observe.
        if invocation.isFirstTry || request.method == .securityGroup { return nil }
        return try await reachable(request) {
            guard let instance = try await rds.findDBInstance(region: request.region, identifier: request.instance,
                                                              deadline: invocation.deadline) else {
                throw ActionError(.permanent, "\(request.instance) does not exist in \(request.region): nothing to fence")
            }
            return isFenced(instance, request) ? Self.fenced(instance, request.method) : nil
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let request = try request(invocation)
        let deadline = invocation.deadline, waiters = RDSActions.waiters(rds, invocation)
        let firstTry = invocation.isFirstTry
        return try await reachable(request) {
            if firstTry {
                // Change at once, without reading first: one round trip less before promotion.
                do {
                    try await change(request, from: nil, waiters: waiters, deadline: deadline)
                    return [:]
                } catch where RDSActions.isInvalidState(error) {
                    // Stopped already, busy, or refused (a stop of an instance with replicas): look, then decide.
                } catch where RDSActions.isNotFound(error) {
                    throw ActionError(.permanent, "\(request.instance) does not exist in \(request.region): nothing to fence")
                }
            }
            // A busy instance rejects changes (InvalidDBInstanceState): let it settle first.
            let current = try await waiters.instanceSettled(region: request.region, identifier: request.instance, until: deadline)
            try await change(request, from: current, waiters: waiters, deadline: deadline)
            return [:]
        } ?? [:]
    }

    /// The calls that fence, skipping those `current` shows done; every call when it is nil (not read).
    private func change(_ request: Request, from current: DBInstance?, waiters: RDSWaiters, deadline: Date) async throws {
        switch request.method {
        case .stop:
            if let current, let refusal = Self.stopRefusal(current) { throw ActionError(.permanent, refusal) }
            if current?.status != "stopped" {
                _ = try await rds.stopDBInstance(region: request.region, identifier: request.instance, deadline: deadline)
            }
        case .parameterGroup, .rebootReadOnly:
            if current?.parameterGroups.contains(where: { $0.name == request.parameterGroup }) != true {
                _ = try await rds.modifyDBInstance(region: request.region, identifier: request.instance,
                                                   .init(parameterGroup: request.parameterGroup, applyImmediately: true), deadline: deadline)
            }
            if request.method == .rebootReadOnly {
                _ = try await waiters.instanceAvailable(region: request.region, identifier: request.instance, until: deadline)
                _ = try await rds.rebootDBInstance(region: request.region, identifier: request.instance, deadline: deadline)
            }
        case .securityGroup:
            if current.map({ Set($0.vpcSecurityGroupIds) != Set(request.securityGroups) }) ?? true {
                _ = try await rds.modifyDBInstance(region: request.region, identifier: request.instance,
                                                   .init(vpcSecurityGroupIds: request.securityGroups, applyImmediately: true), deadline: deadline)
                _ = try await waiters.instanceAvailable(region: request.region, identifier: request.instance, until: deadline)
            }
            _ = try await rds.rebootDBInstance(region: request.region, identifier: request.instance, deadline: deadline)
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        if acted["confirmed"] == .bool(false) { return acted }
        let request = try request(invocation)
        let deadline = invocation.deadline, waiters = RDSActions.waiters(rds, invocation)
        return try await reachable(request) {
            let instance: DBInstance
            switch request.method {
            case .stop:
                instance = try await waiters.instanceStopped(region: request.region, identifier: request.instance, until: deadline)
            case .parameterGroup, .rebootReadOnly, .securityGroup:
                let on = request.method == .securityGroup ? request.securityGroups.joined(separator: ", ") : request.parameterGroup ?? ""
                let what = "\(request.instance) in \(request.region) to be fenced on \(on)"
                instance = try await waiters.instance(region: request.region, identifier: request.instance, what: what,
                                                      until: deadline) { found in
                    RDSWaiters.verdict(found, identifier: request.instance) { isFenced($0, request) }
                }!
            }
            return Self.fenced(instance, request.method)
        } ?? [:]
    }

    static func fenced(_ instance: DBInstance, _ method: Method) -> [String: RunValue] {
        ["fenced": .bool(true), "confirmed": .bool(true), "method": .string(method.rawValue), "status": .string(instance.status),
         "reason": .null, "degraded": .null]
    }

    /// Why RDS will not stop `instance` (it is a read replica, or it has some), with the fix; nil when it may.
    static func stopRefusal(_ instance: DBInstance) -> String? {
        let fix = "fence it with security-group (fence_security_groups) or parameter-group (fence_parameter_group) instead of stop"
        if let source = instance.readReplicaSource {
            return "RDS cannot stop \(instance.identifier): it is a read replica of \(source); \(fix)"
        }
        if !instance.readReplicas.isEmpty {
            return "RDS cannot stop \(instance.identifier): it has read replicas (\(instance.readReplicas.joined(separator: ", "))); \(fix)"
        }
        return nil
    }

    /// Runs `body`; when the region does not answer, returns the unconfirmed-fencing outputs instead.
    private func reachable(_ request: Request, _ body: () async throws -> [String: RunValue]?) async throws -> [String: RunValue]? {
        try await RDSActions.mapped {
            do {
                return try await body()
            } catch let error as TransportError {
                return Self.unconfirmed(request, reason: "\(request.region) unreachable: \(error.description)")
            } catch let error as AWSServiceError where error.httpStatus >= 500 {
                return Self.unconfirmed(request, reason: "\(request.region) answers only server errors: \(error.description)")
            }
        }
    }

    private static func unconfirmed(_ request: Request, reason: String) -> [String: RunValue] {
        let reason = "fencing of \(request.instance) could not be confirmed: \(reason)"
        // `degraded`: the engine ends a run whose step reports it `degraded`, never `succeeded`.
        return ["fenced": .bool(false), "confirmed": .bool(false), "method": .string(request.method.rawValue), "status": .null,
                "reason": .string(reason), "degraded": .string(reason)]
    }
}
