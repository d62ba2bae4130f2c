import DRCore
import Foundation

/// The read-only checks before a failover or switchover: can we act in the target region, do the
/// replicas exist and replicate, how much data would be lost (replica lag, S3 backlog), and the
/// cross-region prerequisites that break real failovers. Runs the plan's read-only actions.
struct AWSPreflight {
    let plan: DRPlan
    let move: Move
    let client: AWSClient
    let actions: [any RunbookAction]
    typealias Check = PreflightCheck

    var from: String { move.from.region }
    var to: String { move.to.region }
    var aws: AWSPlanSection { plan.aws }

    func run() async -> PreflightFindings {
        var report = PreflightFindings()
        var losses: [Double] = []

        // Every read at once, with the identity check: one round trip of latency, not one per
        // resource or per kind of check. The results are reported in plan order.
        let calls = readCalls()
        let targets = targetCalls()
        let sts = STSClient(client: client), target = to
        async let identity = Result.catching { try await sts.getCallerIdentity(region: target).arn }
        let results = await invokeAll(calls)

        // Can we act where we are going? If not, the reads' failures say nothing more.
        switch await identity {
        case .success(let arn):
            report.checks.append(Check(name: "identity in \(to)", ok: true, detail: arn, blocking: true))
        case .failure(let error):
            report.checks.append(Check(name: "identity in \(to)", ok: false, detail: "\(error)", blocking: true))
            report.unknownLossReasons.append("AWS not readable in \(to)")
            return report
        }

        for database in aws.databases where database.primary.region == from {
            guard let replica = database.replica(in: to), let result = results["db:\(database.name)"] else { continue }
            let name = "database \(database.name)"
            switch result {
            case .failure(let error):
                report.checks.append(Check(name: name, ok: false, detail: "could not inspect \(replica.instance): \(error)", blocking: true))
                report.unknownLossReasons.append("\(database.name): lag not readable")
            case .success(let outputs):
                let exists = outputs["replica_exists"]?.boolValue ?? false
                let problems = Self.strings(outputs["problems"])
                report.checks.append(Check(name: "\(name) replica \(replica.instance) in \(to)", ok: exists,
                                           detail: exists ? "status \(outputs["status"]?.description ?? "?"), replicating from \(database.primary.instance): \(outputs["replicating"]?.description ?? "?")"
                                                          : "not found",
                                           blocking: true))
                for problem in problems where exists {
                    report.checks.append(Check(name: "\(name) prerequisites in \(to)", ok: false, detail: problem, blocking: false))
                }
                // The fence comes before promotion: one that cannot work stops the move after the point of no return.
                let fenceProblems = Self.strings(outputs["fence_problems"]), fenceNotes = Self.strings(outputs["fence_notes"])
                let fenceName = "\(name) fence (\(database.fence)) of \(database.primary.instance) in \(from)"
                for problem in fenceProblems {
                    report.checks.append(Check(name: fenceName, ok: false, detail: problem, blocking: true))
                }
                for note in fenceNotes {
                    report.checks.append(Check(name: fenceName, ok: false, detail: note, blocking: false))
                }
                if fenceProblems.isEmpty && fenceNotes.isEmpty {
                    report.checks.append(Check(name: fenceName, ok: true,
                                               detail: "primary \(outputs["primary_status"]?.description ?? "?")", blocking: true))
                }
                if let lag = outputs["lag_seconds"]?.secondsValue {
                    losses.append(lag)
                    report.checks.append(Check(name: "\(name) replica lag", ok: lag <= (plan.budgets.rpo ?? 3600),
                                               detail: DurationText.format(lag), blocking: false))
                } else {
                    report.unknownLossReasons.append("\(database.name): no ReplicaLag datapoint")
                    report.checks.append(Check(name: "\(name) replica lag", ok: false, detail: "unknown (no ReplicaLag datapoint)", blocking: false))
                }
            }
        }

        for bucket in aws.buckets where bucket.destinationRegion == to {
            guard let rule = results["rule:\(bucket.source)"], let backlog = results["backlog:\(bucket.source)"] else { continue }
            switch rule {
            case .success(let outputs):
                let problems = Self.strings(outputs["problems"])
                report.checks.append(Check(name: "bucket \(bucket.source) → \(bucket.destination)", ok: problems.isEmpty,
                                           detail: problems.isEmpty ? "replication rule \(outputs["rule_id"]?.description ?? "?") covers it" : problems.joined(separator: "; "),
                                           blocking: false))
            case .failure(let error):
                report.checks.append(Check(name: "bucket \(bucket.source) → \(bucket.destination)", ok: false, detail: "could not check: \(error)", blocking: false))
            }
            switch backlog {
            case .success(let outputs):
                let age = outputs["oldest_pending_age_seconds"]?.secondsValue ?? 0
                losses.append(age)
                report.checks.append(Check(name: "bucket \(bucket.source) backlog", ok: (outputs["failed"]?.intValue ?? 0) == 0,
                                           detail: "\(outputs["pending"]?.description ?? "?") pending, \(outputs["failed"]?.description ?? "?") failed of \(outputs["sampled"]?.description ?? "?") sampled; oldest pending \(DurationText.format(age))",
                                           blocking: false))
            case .failure(let error):
                // The source region may be the one that is down: objects already replicated are safe.
                report.checks.append(Check(name: "bucket \(bucket.source) backlog", ok: false, detail: "not readable: \(error)", blocking: false))
            }
        }

        for secret in aws.secrets {
            let name = "secret \(secret.name) in \(to)"
            switch results["secret:\(secret.region):\(secret.name)"] {
            case .success(let outputs)?:
                let problems = Self.strings(outputs["problems"]), notes = Self.strings(outputs["notes"])
                let status = outputs["replication_status"]?.stringValue.map { "replication \($0)" } ?? "replica present"
                report.checks.append(Check(name: name, ok: problems.isEmpty, detail: (problems.isEmpty ? [status] : problems).joined(separator: "; "),
                                           blocking: true))
                if !notes.isEmpty {
                    report.checks.append(Check(name: "\(name) replication", ok: false, detail: notes.joined(separator: "; "), blocking: false))
                }
            case .failure(let error)?:
                report.checks.append(Check(name: name, ok: false, detail: "could not check: \(error)", blocking: true))
            case nil:
                break
            }
        }
        report.checks += targetChecks(targets, results: results)
        if from == "us-east-1" && !aws.records.isEmpty && aws.cutsOverByDNS(to: to) {
            report.checks.append(Check(name: "traffic cutover", ok: false,
                                       detail: "DNS changes go through Route 53's control plane in us-east-1, the region being left; add Route 53 ARC routing controls to the plan to cut over through the data plane",
                                       blocking: false))
        }
        report.losses = losses
        return report
    }

    /// Every read-only action the preflight runs (besides the identity check): what `drctl iam
    /// policy` grants for it, and what `run` sends at once.
    func readCalls() -> [Call] {
        var calls: [Call] = []
        for database in aws.databases where database.primary.region == from {
            guard let replica = database.replica(in: to) else { continue }
            var arguments: [String: RunValue] = ["region": .string(to), "instance": .string(replica.instance),
                                                 "source_instance": .string(database.primary.instance), "source_region": .string(from),
                                                 "fence": .string(database.fence)]
            if let group = database.fenceParameterGroup { arguments["fence_parameter_group"] = .string(group) }
            calls.append(("db:\(database.name)", "aws.rds.preflight", arguments))
        }
        for bucket in aws.buckets where bucket.destinationRegion == to {
            var arguments: [String: RunValue] = ["region": .string(bucket.sourceRegion), "bucket": .string(bucket.source),
                                                 "destination_bucket": .string(bucket.destination),
                                                 "destination_region": .string(bucket.destinationRegion)]
            if let storageClass = bucket.storageClass { arguments["storage_class"] = .string(storageClass) }
            calls.append(("rule:\(bucket.source)", "aws.s3.check-replication", arguments))
            calls.append(("backlog:\(bucket.source)", "aws.s3.replication-backlog",
                          ["region": .string(bucket.sourceRegion), "bucket": .string(bucket.source)]))
        }
        for secret in aws.secrets {
            calls.append(("secret:\(secret.region):\(secret.name)", "aws.secretsmanager.check-replica",
                          ["region": .string(to), "secret": .string(secret.name), "primary_region": .string(secret.region)]))
        }
        return calls + targetCalls().map(\.call)
    }

    static func strings(_ value: RunValue?) -> [String] {
        guard case .list(let items)? = value else { return [] }
        return items.map(\.description)
    }

    /// Runs read-only actions concurrently (the AWS client bounds nothing; these are a handful per resource).
    private func invokeAll(_ calls: [Call]) async -> [String: Result<[String: RunValue], any Error>] {
        await withTaskGroup(of: (String, Result<[String: RunValue], any Error>).self) { group in
            for call in calls {
                group.addTask { (call.key, await invoke(call.action, call.arguments)) }
            }
            var results: [String: Result<[String: RunValue], any Error>] = [:]
            for await (key, result) in group { results[key] = result }
            return results
        }
    }

    /// Runs a read-only action once, outside any run.
    private func invoke(_ name: String, _ arguments: [String: RunValue]) async -> Result<[String: RunValue], any Error> {
        await ActionInvocation.readOnly(name, among: actions, arguments: arguments, purpose: "preflight")
    }

    /// Fills in the hosted-zone ids of records named by zone name. A zone that does not exist is
    /// a plan error; when Route 53 cannot be asked (its control plane is in us-east-1, perhaps the
    /// region being left), the records keep their names and the DNS step looks them up itself
    /// when it runs — the rest of the move does not wait for Route 53.
    static func resolveZones(_ plan: DRPlan, client: AWSClient) async throws -> (plan: DRPlan, unresolved: String?) {
        guard plan.aws.records.contains(where: { $0.zoneId.isEmpty }) else { return (plan, nil) }
        let zones: [Route53Client.HostedZone]
        do {
            zones = try await Route53Client(client: client).listHostedZones()
        } catch let error as AWSServiceError where !error.isRetryable && error.httpStatus < 500 {
            throw error   // denied, invalid: as any other call of this command
        } catch {
            return (plan, "hosted zones not listed now (\(error)): the DNS step will look its zone up when it runs")
        }
        var resolved = plan
        for index in resolved.aws.records.indices where resolved.aws.records[index].zoneId.isEmpty {
            let wanted = resolved.aws.records[index].zoneName ?? ""
            guard let zone = Route53Client.zone(named: wanted, in: zones) else {
                throw RunbookValidationError(problems: [RunbookProblem(location: FileLocation(file: plan.source.path, line: 1, column: 1), message: "found no hosted zone named \(wanted) for \(resolved.aws.records[index].name), expected an existing Route 53 zone")])
            }
            resolved.aws.records[index].zoneId = zone.id
        }
        return (resolved, nil)
    }
}
