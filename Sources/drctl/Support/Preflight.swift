import AWSProvider
import DRCore
import Foundation

/// The read-only checks before a failover or switchover: can we act in the target region, do the
/// replicas exist and replicate, how much data would be lost (replica lag, S3 backlog), and the
/// cross-region prerequisites that break real failovers. Runs the plan's read-only actions.
struct Preflight {
    let plan: DRPlan
    let from: String
    let to: String
    let kind: FailoverRunbookGenerator.Kind
    let aws: AWSContext
    let registry: ActionRegistry

    struct Check: Encodable {
        let name: String
        let ok: Bool
        let detail: String
        /// A failed blocking check stops the move; others are warnings.
        let blocking: Bool
    }

    struct Report: Encodable {
        var checks: [Check] = []
        /// Seconds of data the move would lose; nil when some source of loss is unknown.
        var expectedDataLoss: Double?
        var unknownLossReasons: [String] = []

        var blockers: [String] { checks.filter { !$0.ok && $0.blocking }.map { "\($0.name): \($0.detail)" } }

        func render(format: OutputFormat) {
            guard format == .text else {
                try? JSONOutput.print(self)
                return
            }
            print("Preflight")
            for check in checks {
                let mark = check.ok ? "ok  " : (check.blocking ? "FAIL" : "warn")
                print("  [\(mark)] \(check.name): \(check.detail)")
            }
            if let loss = expectedDataLoss {
                print("  expected data loss: \(DurationText.format(loss))")
            } else {
                print("  expected data loss: unknown (\(unknownLossReasons.joined(separator: "; ")))")
            }
        }

        func journalDetail(plan: DRPlan, from: String, to: String) -> [String: RunValue] {
            [
                "event": .string("preflight"), "plan": .string(plan.name), "plan_digest": .string(plan.source.digest),
                "from": .string(from), "to": .string(to),
                "expected_data_loss": expectedDataLoss.map { .duration($0) } ?? .null,
                "checks": .list(checks.map { .map(["name": .string($0.name), "ok": .bool($0.ok), "detail": .string($0.detail)]) }),
            ]
        }
    }

    func run() async throws -> Report {
        var report = Report()
        var losses: [Double] = []

        // Every read at once, with the identity check: one round trip of latency, not one per
        // resource or per kind of check. The results are reported in plan order.
        var calls: [Call] = []
        for database in plan.databases where database.primary.region == from {
            guard let replica = database.replica(in: to) else { continue }
            var arguments: [String: RunValue] = ["region": .string(to), "instance": .string(replica.instance),
                                                 "source_instance": .string(database.primary.instance), "source_region": .string(from),
                                                 "fence": .string(database.fence)]
            if let group = database.fenceParameterGroup { arguments["fence_parameter_group"] = .string(group) }
            calls.append(("db:\(database.name)", "aws.rds.preflight", arguments))
        }
        for bucket in plan.buckets where bucket.destinationRegion == to {
            var arguments: [String: RunValue] = ["region": .string(bucket.sourceRegion), "bucket": .string(bucket.source),
                                                 "destination_bucket": .string(bucket.destination),
                                                 "destination_region": .string(bucket.destinationRegion)]
            if let storageClass = bucket.storageClass { arguments["storage_class"] = .string(storageClass) }
            calls.append(("rule:\(bucket.source)", "aws.s3.check-replication", arguments))
            calls.append(("backlog:\(bucket.source)", "aws.s3.replication-backlog",
                          ["region": .string(bucket.sourceRegion), "bucket": .string(bucket.source)]))
        }
        for secret in plan.secrets {
            calls.append(("secret:\(secret.region):\(secret.name)", "aws.secretsmanager.check-replica",
                          ["region": .string(to), "secret": .string(secret.name), "primary_region": .string(secret.region)]))
        }
        let targets = targetCalls()
        calls += targets.map(\.call)
        let sts = STSClient(client: aws.client), target = to
        async let identity = Result.catching { try await sts.getCallerIdentity(region: target).arn }
        let results = await invokeAll(calls)

        // Can we act where we are going? If not, the reads' failures say nothing more.
        switch await identity {
        case .success(let arn):
            report.checks.append(Check(name: "identity in \(to)", ok: true, detail: arn, blocking: true))
        case .failure(let error):
            report.checks.append(Check(name: "identity in \(to)", ok: false, detail: "\(error)", blocking: true))
            return report
        }

        for database in plan.databases where database.primary.region == from {
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

        for bucket in plan.buckets where bucket.destinationRegion == to {
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

        for secret in plan.secrets {
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
        if from == "us-east-1" && !plan.records.isEmpty && plan.cutsOverByDNS(to: to) {
            report.checks.append(Check(name: "traffic cutover", ok: false,
                                       detail: "DNS changes go through Route 53's control plane in us-east-1, the region being left; add Route 53 ARC routing controls to the plan to cut over through the data plane",
                                       blocking: false))
        }
        report.expectedDataLoss = report.unknownLossReasons.isEmpty ? (losses.max() ?? 0) : nil
        return report
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
        guard let action = registry.action(name) else { return .failure(ActionError(.permanent, "action \(name) is not available")) }
        let now = Date()
        let invocation = ActionInvocation(runId: "preflight", stepId: name, attempt: 1, arguments: arguments, firstStartedAt: now,
                                          deadline: now.addingTimeInterval(120), isResume: false, services: ActionServices(messages: { _ in }))
        return await Result.catching { try await action.verify(invocation, acted: [:]) }
    }

    /// Fills in the hosted-zone ids of records named by zone name. A zone that does not exist is
    /// a plan error; when Route 53 cannot be asked (its control plane is in us-east-1, perhaps the
    /// region being left), the records keep their names and the DNS step looks them up itself
    /// when it runs — the rest of the move does not wait for Route 53.
    static func resolveZones(_ plan: DRPlan, aws: AWSContext) async throws -> (plan: DRPlan, unresolved: String?) {
        guard plan.records.contains(where: { $0.zoneId.isEmpty }) else { return (plan, nil) }
        let zones: [Route53Client.HostedZone]
        do {
            zones = try await Route53Client(client: aws.client).listHostedZones()
        } catch let error as AWSServiceError where !error.isRetryable && error.httpStatus < 500 {
            throw error   // denied, invalid: as any other call of this command
        } catch {
            return (plan, "hosted zones not listed now (\(error)): the DNS step will look its zone up when it runs")
        }
        var resolved = plan
        for index in resolved.records.indices where resolved.records[index].zoneId.isEmpty {
            let wanted = resolved.records[index].zoneName ?? ""
            guard let zone = Route53Client.zone(named: wanted, in: zones) else {
                throw RunEnded(status: .invalidRunbook, message: "\(plan.source.path): no hosted zone named \(wanted) for \(resolved.records[index].name)")
            }
            resolved.records[index].zoneId = zone.id
        }
        return (resolved, nil)
    }
}
