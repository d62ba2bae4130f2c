import DRCore
import Foundation

/// `aws.rds.preflight` (read-only): is the DR replica ready to be promoted? Reports what would
/// break a real failover — a missing or detached replica, unknown lag, a KMS key missing in the
/// DR region, missing subnet, parameter or option groups — as `problems`; never throws for a
/// missing resource. Given `fence` (the method the move will fence the old primary with), it
/// also reads the primary, in the same round, and reports as `fence_problems` what would make
/// that fence fail — a primary that does not exist, `stop` of a primary that has read replicas
/// (RDS refuses it), a missing read-only parameter group — and as `fence_notes` a primary that
/// cannot be read now (the fence will then be best effort).
struct RDSPreflightAction: RunbookAction {
    let rds: RDSClient
    let lag: RDSReplicaLag
    let name = "aws.rds.preflight"
    let summary = "Reads whether an RDS DR replica is ready to be promoted (state, lag, KMS key, groups, the old primary's fence) and reports problems and notes without changing anything."
    let permissions: [ActionPermission] = [
        .aws("rds:DescribeDBInstances"),
        .aws("cloudwatch:GetMetricData"),
        .aws("kms:DescribeKey", note: "encrypted replicas"),
        .aws("rds:DescribeDBSubnetGroups", note: "no replica: the groups a restore needs"),
        .aws("rds:DescribeDBParameterGroups", note: "no replica, or a parameter-group fence"),
        .aws("rds:DescribeOptionGroups", note: "no replica: the groups a restore needs"),
    ]
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [
        RDSActions.region, .init("instance", .string, required: true), .init("source_instance", .string, required: true),
        .init("source_region", .string, required: true), .init("fence", .string), .init("fence_parameter_group", .string),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        "check replica \(arguments.argumentText("instance")) in \(arguments.argumentText("region")) of \(arguments.argumentText("source_instance")) "
            + "(DescribeDBInstances, CloudWatch ReplicaLag, KMS DescribeKey, DescribeDBSubnetGroups, DescribeDBParameterGroups, DescribeOptionGroups)"
            + (arguments["fence"] == nil ? "" : " and that fence \(arguments.argumentText("fence")) can work on it (DescribeDBInstances in "
                + "\(arguments.argumentText("source_region")))")
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = RDSArguments(invocation)
        let region = try arguments.string("region"), identifier = try arguments.string("instance")
        let source = try arguments.string("source_instance"), sourceRegion = try arguments.string("source_region")
        let deadline = invocation.deadline
        let fence = try arguments.optionalString("fence")
        var problems: [String] = [], notes: [String] = []
        var outputs: [String: RunValue] = [
            "replica_exists": .bool(false), "replicating": .bool(false), "status": .null, "lag_seconds": .null, "encrypted": .null,
            "kms_key_present_in_region": .null, "subnet_group_present": .null, "parameter_group_present": .null,
            "option_group_present": .null,
        ]

        // The replica and its lag in one round trip (both reads coalesce with the other databases').
        let now = invocation.services.clock.now()
        let lag = self.lag
        async let lagRead = Result.catching { try await lag.latest(region: region, instance: identifier, now: now, deadline: deadline) }
        // The fence's target, read with the replica (it coalesces with the other primaries of its region).
        let rds = self.rds
        async let primaryRead = Result.catching {
            fence == nil ? nil : try await rds.findDBInstance(region: sourceRegion, identifier: source, deadline: deadline)
        }
        let replica: DBInstance?
        do {
            replica = try await rds.findDBInstance(region: region, identifier: identifier, deadline: deadline)
        } catch {
            replica = nil
            problems.append("cannot read \(identifier) in \(region): \(Self.text(error))")
        }
        if let replica {
            outputs["replica_exists"] = .bool(true)
            outputs["status"] = .string(replica.status)
            outputs["encrypted"] = .bool(replica.storageEncrypted)
            let replicating = replica.readReplicaSource.map { Self.names(source, $0) } ?? false
            outputs["replicating"] = .bool(replicating)
            if replica.readReplicaSource == nil {
                problems.append("\(identifier) in \(region) is not a read replica (already promoted or standalone)")
            } else if !replicating {
                problems.append("\(identifier) replicates from \(replica.readReplicaSource!), not from \(source) in \(sourceRegion)")
            }
            if replica.status != "available" { problems.append("\(identifier) is \(replica.status), not available") }
        } else if problems.isEmpty {
            problems.append("replica \(identifier) does not exist in \(region)")
        }

        switch await lagRead {
        case .success(let point?):
            outputs["lag_seconds"] = .double(point.seconds)
        case .success(nil):
            if replica != nil { notes.append("no ReplicaLag datapoint for \(identifier) in the last 10 minutes: lag unknown") }
        case .failure(let error):
            notes.append("CloudWatch ReplicaLag unreadable in \(region): \(Self.text(error))")
        }

        if let replica, replica.storageEncrypted {
            if let key = replica.kmsKeyId {
                do {
                    let state = try await RDSKMSKeyCheck(client: rds.client).describeKey(region: region, keyId: key, deadline: deadline)
                    outputs["kms_key_present_in_region"] = .bool(state?.enabled ?? false)
                    if state == nil { problems.append("KMS key \(key) of \(identifier) does not exist in \(region)") }
                    else if state?.enabled == false { problems.append("KMS key \(key) in \(region) is \(state?.state ?? "disabled")") }
                } catch {
                    // moto, or a KMS endpoint that does not answer: say so rather than guess.
                    notes.append("KMS not reachable in \(region), key \(key) not checked: \(Self.text(error))")
                }
            } else {
                problems.append("\(identifier) is encrypted but RDS reports no KmsKeyId")
            }
        }

        let primary = await primaryRead
        if let fence {
            let replicates = outputs["replicating"] == .bool(true) ? replica.map { [$0.identifier] } ?? [] : []
            let (fenceProblems, fenceNotes) = await fenceReadiness(fence, primary, replicas: replicates, arguments: arguments,
                                                                  source: source, sourceRegion: sourceRegion, deadline: deadline)
            let primaryStatus = ((try? primary.get()) ?? nil)?.status
            outputs["primary_status"] = primaryStatus.map(RunValue.string) ?? .null
            outputs["fence_problems"] = .list(fenceProblems.map(RunValue.string))
            outputs["fence_notes"] = .list(fenceNotes.map(RunValue.string))
        }

        if let replica {
            // RDS refuses to delete a group an instance uses: the replica's groups exist.
            outputs["subnet_group_present"] = replica.subnetGroupName.map { _ in .bool(true) } ?? .null
            outputs["parameter_group_present"] = replica.parameterGroups.isEmpty ? .null : .bool(true)
        } else if let primary = fence != nil ? (try? primary.get()) ?? nil
                    : try? await rds.findDBInstance(region: sourceRegion, identifier: source, deadline: deadline) {
            // No replica: a restore in the DR region needs the primary's groups there. AWS makes the
            // `default:` option groups in every region itself.
            let checks: [GroupCheck] = (primary.subnetGroupName.map { [GroupCheck(kind: .subnet, name: $0)] } ?? [])
                + primary.parameterGroups.map { GroupCheck(kind: .parameter, name: $0.name) }
                + primary.optionGroups.filter { !$0.hasPrefix("default:") }.map { GroupCheck(kind: .option, name: $0) }
            let found = await present(checks, region: region, deadline: deadline)
            for check in checks where found[check] == false {
                problems.append("\(check.kind.rawValue) \(check.name) does not exist in \(region)")
            }
            for kind in RDSClient.GroupKind.allCases {
                let answers = checks.filter { $0.kind == kind }.map { found[$0] ?? nil }
                guard !answers.isEmpty else { continue }
                // Absent when one is missing; unknown when one could not be read.
                let all: Bool? = answers.contains(false) ? false : (answers.contains(nil) ? nil : true)
                outputs[Self.output(kind)] = all.map(RunValue.bool) ?? .null
            }
        }

        outputs["problems"] = .list(problems.map(RunValue.string))
        outputs["notes"] = .list(notes.map(RunValue.string))
        return outputs
    }

    /// What would make fencing `source` with `method` fail, and what cannot be known now.
    /// `replicas`: replicas of `source` known from the DR region (they count when the primary cannot be read).
    private func fenceReadiness(_ method: String, _ primary: Result<DBInstance?, any Error>, replicas: [String], arguments: RDSArguments,
                                source: String, sourceRegion: String, deadline: Date) async -> (problems: [String], notes: [String]) {
        var problems: [String] = [], notes: [String] = []
        switch primary {
        case .success(nil):
            problems.append("the old primary \(source) does not exist in \(sourceRegion): the fence would fail (a misspelled instance?)")
        case .success(let instance?):
            if method == "stop", let refusal = RDSFenceInstanceAction.stopRefusal(instance) { problems.append(refusal) }
        case .failure(let error):
            notes.append("the old primary \(source) in \(sourceRegion) cannot be read now (\(Self.text(error))): fencing will be best effort")
            if method == "stop" && !replicas.isEmpty {
                problems.append("RDS cannot stop \(source): it has read replicas (\(replicas.joined(separator: ", "))); fence it with "
                                + "security-group (fence_security_groups) or parameter-group (fence_parameter_group) instead of stop")
            }
        }
        if method == "parameter-group" || method == "reboot-read-only", let group = try? arguments.optionalString("fence_parameter_group") {
            switch await Result.catching({ try await rds.groupExists(.parameter, region: sourceRegion, name: group, deadline: deadline) }) {
            case .success(false):
                problems.append("the fence's parameter group \(group) does not exist in \(sourceRegion)")
            case .failure(let error) where (try? primary.get()) != nil:
                notes.append("the fence's parameter group \(group) in \(sourceRegion) not checked: \(Self.text(error))")
            default:
                break
            }
        }
        return (problems, notes)
    }

    /// A DB group the primary uses, which a restore in the DR region needs there too.
    struct GroupCheck: Hashable, Sendable {
        let kind: RDSClient.GroupKind
        let name: String
    }

    /// The output that says whether the groups of `kind` are present.
    static func output(_ kind: RDSClient.GroupKind) -> String {
        switch kind {
        case .subnet: "subnet_group_present"
        case .parameter: "parameter_group_present"
        case .option: "option_group_present"
        }
    }

    /// Each group's presence in `region`, asked all at once (they coalesce with the other
    /// databases' questions): true, false, or nil when RDS could not be read.
    private func present(_ checks: [GroupCheck], region: String, deadline: Date) async -> [GroupCheck: Bool?] {
        let rds = self.rds
        return await withTaskGroup(of: (GroupCheck, Bool?).self) { group in
            for check in Set(checks) {
                group.addTask { (check, try? await rds.groupExists(check.kind, region: region, name: check.name, deadline: deadline)) }
            }
            var found: [GroupCheck: Bool?] = [:]
            for await (check, present) in group { found[check] = present }
            return found
        }
    }

    /// Whether `reference` (an identifier or ARN, as RDS reports a replica's source) names `source`.
    static func names(_ source: String, _ reference: String) -> Bool {
        reference == source || reference.hasSuffix(":db:\(source)") || source.hasSuffix(":db:\(reference)")
    }

    static func text(_ error: any Error) -> String {
        String(describing: error)
    }
}
