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

/// The end of a failover: measured RTO against the budget, the expected RPO, what was fenced, and
/// every step that did not do its part. It says "moved" and shows a measured RTO only when every
/// promotion and traffic step succeeded: a run that ended without a writable primary and traffic
/// on it did not recover, whatever else it did.
enum Summary {
    struct Report: Encodable {
        let run: String
        let status: String
        /// Why the run ended as it did (the engine's words: which step stopped it, and how to go on).
        let reason: String?
        /// Every promotion and traffic step succeeded: the service is writable in the target region.
        let moved: Bool
        let rtoSeconds: Double?
        let rtoBudgetSeconds: Double?
        let expectedDataLossSeconds: Double?
        let rpoBudgetSeconds: Double?
        let fencing: [String: String]
        /// Each promoted secret: where it stands after the move, and whether rotation needs setting up.
        let secrets: [String: String]
        /// Each step that should have run and did not succeed: its state and why.
        let notDone: [String: String]
    }

    /// Actions whose success is the move itself: without them there is no recovery to measure.
    static let movingActions: Set<String> = ["aws.rds.promote-read-replica", "aws.route53.upsert-record", "aws.arc.set-routing-control"]

    static func print(store: any StateStore, runId: String, plan: DRPlan, runbook: Runbook, report: Preflight.Report,
                      format: OutputFormat) async throws {
        let entries = try await store.journal(runId: runId)
        let statuses = entries.filter { $0.kind == .runStatus }
        let started = statuses.first?.at
        let ended = statuses.last.flatMap { entry in
            (entry.detail["to"]?.stringValue).flatMap(RunStatus.init(rawValue:)).map { $0.isFinal || $0 == .unknown } == true ? entry.at : nil
        }
        let replay = JournalReplay(entries: entries)
        // Steps are picked by their action, so a plan's own runbook (`runbooks:`) is summarised too.
        func steps(of action: String) -> [(String, JournalReplay.StepRecord)] {
            runbook.steps.filter { $0.call.action == action }.map { ($0.id, replay.steps[$0.id] ?? JournalReplay.StepRecord()) }
        }
        var fencing: [String: String] = [:]
        for (id, step) in steps(of: "aws.rds.fence-instance") {
            let confirmed = step.outputs["confirmed"]?.boolValue
            fencing[id] = confirmed == true ? "confirmed"
                : (step.state == .succeeded ? "fencing NOT confirmed: \(step.outputs["reason"]?.description ?? "region unreachable")"
                                            : "NOT fenced (\(step.state.rawValue)\(step.toleratedBy.map { ", proceeding unfenced accepted by \($0)" } ?? "")"
                                              + "\(step.error.map { ": \($0)" } ?? ""))")
        }
        var secrets: [String: String] = [:]
        for (id, step) in steps(of: "aws.secretsmanager.promote-replica") {
            switch step.state {
            case .succeeded where step.outputs["rotation_enabled"]?.boolValue == true:
                secrets[id] = "standalone; rotation on"
            case .succeeded:
                secrets[id] = "standalone; rotation is off there: set it up on the promoted secret"
            case .pending, .skipped:
                secrets[id] = "not promoted (\(step.state.rawValue)): still a replica, readable but not changeable there"
            default:
                // It may have been promoted before the step failed: only DescribeSecret can say.
                secrets[id] = "not confirmed standalone (\(step.state.rawValue)\(step.error.map { ": \($0)" } ?? "")): check it with DescribeSecret"
            }
        }
        // A step skipped by its own `when` did what it should; one skipped because something it
        // needed failed did not.
        var notDone: [String: String] = [:]
        for step in runbook.steps where fencing[step.id] == nil && secrets[step.id] == nil {
            let record = replay.steps[step.id] ?? JournalReplay.StepRecord()
            guard record.state != .succeeded, !(record.state == .skipped && record.skipCause == .condition) else { continue }
            let tolerated = record.toleratedBy.map { ", tolerated by \($0)" } ?? ""
            notDone[step.id] = record.state.rawValue + tolerated + (record.error.map { ": \($0)" } ?? "")
        }
        let moved = runbook.steps.filter { movingActions.contains($0.call.action) }.allSatisfy { replay.steps[$0.id]?.state == .succeeded }
        var status = replay.runStatus?.rawValue ?? "?"
        if !moved && status == "succeeded" { status = "failed" }   // never "succeeded" without a writable primary and traffic on it
        let reason = statuses.last?.detail["reason"]?.stringValue
        let summary = Report(run: runId, status: status, reason: status == "succeeded" ? nil : reason, moved: moved,
                             rtoSeconds: moved ? started.flatMap { start in ended.map { $0.timeIntervalSince(start) } } : nil,
                             rtoBudgetSeconds: plan.budgets.rto, expectedDataLossSeconds: report.expectedDataLoss,
                             rpoBudgetSeconds: plan.budgets.rpo, fencing: fencing, secrets: secrets, notDone: notDone)
        try await store.append(JournalEntry(runId: runId, at: Date(), kind: .note, detail: [
            "event": .string("summary"), "moved": .bool(moved), "rto": summary.rtoSeconds.map { .duration($0) } ?? .null,
            "expected_data_loss": summary.expectedDataLossSeconds.map { .duration($0) } ?? .null,
        ]))
        guard format == .text else {
            try JSONOutput.print(summary)
            return
        }
        Swift.print("\nSummary of \(runId): \(summary.status)")
        if let why = summary.reason, summary.status != "degraded" { Swift.print("  \(why)") }
        if let rto = summary.rtoSeconds {
            Swift.print("  RTO measured: \(DurationText.format(rto)) of a \(DurationText.format(plan.budgets.rto ?? 0)) budget\(rto > (plan.budgets.rto ?? .infinity) ? " — OVER BUDGET" : "")")
        } else if !moved {
            Swift.print("  NOT moved: promotion or traffic did not complete (see below); no RTO to measure")
        }
        let loss = summary.expectedDataLossSeconds.map(DurationText.format) ?? "unknown"
        Swift.print("  RPO expected: \(loss) of a \(DurationText.format(plan.budgets.rpo ?? 0)) budget")
        for (step, state) in fencing.sorted(by: { $0.key < $1.key }) { Swift.print("  \(step): \(state)") }
        for (step, state) in secrets.sorted(by: { $0.key < $1.key }) { Swift.print("  \(step): \(state)") }
        for (step, state) in notDone.sorted(by: { $0.key < $1.key }) { Swift.print("  \(step): NOT done (\(state))") }
    }

}
