import DRCore
import Foundation

/// Writes the runbook `drctl drill run` executes: for every plan database with a replica in the
/// DR region, snapshot that replica, restore the snapshot as a drill instance (drill names, drill
/// tags), validate the copy with the plan's checks, measure the RPO, then delete the drill
/// instance and the drill snapshot. Nothing else is touched: no fence, no promote, no DNS, no
/// scaling, and every mutating step names a drill resource (the production replica is only read by
/// CreateDBSnapshot).
///
/// Teardown always happens: on success by the `teardown-*` steps; on a failure by compensations.
/// The compensations hang on `claim-*` steps that run before anything is created, so they also
/// cover a snapshot or a restore that itself failed half-way (a failed step is not compensated,
/// but an earlier completed one is); every step after the claims has `on_failure: rollback`.
/// A crash is finished by `drctl resume RUN` (forward: validation, then teardown) or undone by
/// `drctl abort RUN` (the compensations).
public enum DrillRunbookGenerator {
    /// What one database's drill creates (and deletes).
    public struct Resource: Sendable, Equatable {
        public let database: String
        public let region: String
        public let source: String
        public let snapshot: String
        public let instance: String
    }

    public struct Drill: Sendable {
        public let name: String
        public let text: String
        public let resources: [Resource]
        /// The sum of the estimates along the longest chain of steps.
        public let estimate: Double
        /// True when the runbook measures RPO (`postgres.heartbeat-rpo`); else why not.
        public let rpoNotMeasuredReason: String?
    }

    public struct Problem: Error, CustomStringConvertible, Sendable {
        /// True when the cost guard refused (instance class or runtime), false for a plan that cannot drill.
        public let refusedByCostGuard: Bool
        public let message: String
        public var description: String { message }
    }

    public static let heartbeatAction = "postgres.heartbeat-rpo"

    /// Estimates per step kind (seconds): what a small RDS PostgreSQL instance typically takes.
    static let estimates: [String: Double] = ["snapshot": 600, "restore": 1200, "check": 120, "rpo": 60,
                                              "teardown-instance": 600, "teardown-snapshot": 120]

    /// - Parameters:
    ///   - available: the action names this build registers (checks naming others are refused).
    public static func make(plan: DRPlan, region: String, runId: String, available: Set<String>) throws -> Drill {
        let settings = plan.drill
        if let maximum = settings.maxInstanceClass, let reason = InstanceClassSize.exceeds(settings.instanceClass, maximum: maximum) {
            throw Problem(refusedByCostGuard: true, message: "cost guard: \(reason)")
        }
        let databases = plan.aws.databases.filter { $0.replica(in: region) != nil }
        guard !databases.isEmpty else {
            throw Problem(refusedByCostGuard: false, message: "plan \(plan.name) has no database with a replica in \(region): nothing to drill")
        }
        for check in settings.checks where !available.contains(check.action) {
            throw Problem(refusedByCostGuard: false, message: "check \(check.name) names \(check.action), which this drctl does not provide")
        }
        if !settings.checks.isEmpty && settings.validationURLEnv == nil {
            throw Problem(refusedByCostGuard: false, message: "drill checks need drills.validation.url_env")
        }
        var rpoReason: String?
        if settings.primaryURLEnv == nil || settings.validationURLEnv == nil {
            rpoReason = "not measured: the plan sets no drills.primary_url_env and drills.validation.url_env"
        } else if !available.contains(heartbeatAction) {
            rpoReason = "not measured: this drctl has no \(heartbeatAction) action"
        }

        let short = shortId(runId)
        let production = Set(plan.aws.databases.flatMap { [$0.primary.instance] + $0.replicas.map(\.instance) })
        let resources = try databases.map { database -> Resource in
            let name = resourceName(plan: plan.name, database: database.name, short: short)
            guard !production.contains(name) else {
                throw Problem(refusedByCostGuard: false, message: "the drill name \(name) is the name of a production instance")
            }
            return Resource(database: database.name, region: region, source: database.replica(in: region)!.instance,
                            snapshot: name, instance: name)
        }

        // The chain: snapshot → restore → (checks ∥ rpo) → delete instance → delete snapshot.
        let validation = max(settings.checks.isEmpty ? 0 : estimates["check"]!, rpoReason == nil ? estimates["rpo"]! : 0)
        let chain = estimates["snapshot"]! + estimates["restore"]! + validation + estimates["teardown-instance"]! + estimates["teardown-snapshot"]!
        guard chain <= settings.maxRuntime else {
            throw Problem(refusedByCostGuard: true, message: "cost guard: the drill is estimated at \(DurationText.format(chain)), "
                          + "over drills.max_runtime \(DurationText.format(settings.maxRuntime))")
        }
        // Timeouts share max_runtime in proportion to the estimates: the whole chain cannot exceed it.
        let scale = settings.maxRuntime / chain
        func timeout(_ kind: String) -> String { DurationText.format((estimates[kind]! * scale).rounded(.down)) }
        func estimate(_ kind: String) -> String { DurationText.format(estimates[kind]!) }

        let name = StepIdentifiers.slug(["drill", plan.name, region])
        var lines: [String] = []
        func add(_ text: String) { lines.append(text) }
        let quote = Self.quote
        add("# Generated by drctl from plan \(plan.name) (\(plan.source.path), digest \(plan.source.digest.prefix(12))) for run \(runId).")
        add("# A drill in \(region): restore copies under drill names, validate, measure, delete. Never fences, promotes or moves traffic.")
        add("name: \(name)")
        add("description: \(quote("Drill of \(plan.name) in \(region): restore, validate, measure RPO/RTO, tear down"))")
        // The plan's budgets, so that the run's progress and its evidence judge the drill against
        // them (as the failover runbook does): a drill measures whether the plan's RTO and RPO hold.
        let budgets = [plan.budgets.rpo.map { "rpo: \(exactDuration($0))" }, plan.budgets.rto.map { "rto: \(exactDuration($0))" }].compactMap { $0 }
        if !budgets.isEmpty { add("budgets: { \(budgets.joined(separator: ", ")) }") }
        add("steps:")
        var restores: [String] = []
        for resource in resources {
            let tags = "{ \"drctl:drill\": \(quote(runId)), \"drctl:plan\": \(quote(plan.name)), \"drctl:database\": \(quote(resource.database)) }"
            let claimSnapshot = StepIdentifiers.slug(["claim-snapshot", resource.database])
            let claimInstance = StepIdentifiers.slug(["claim-instance", resource.database])
            let snapshot = StepIdentifiers.slug(["snapshot", resource.database])
            let restore = StepIdentifiers.slug(["restore", resource.database])
            add("  - id: \(claimSnapshot)")
            add("    description: registers the deletion of the drill snapshot, should anything later fail")
            add("    action: notify")
            add("    with: { message: \(quote("drill snapshot \(resource.snapshot) in \(region) (deleted at the end)")) }")
            add("    compensate:")
            add("      action: aws.rds.delete-snapshot")
            add("      with: { region: \(region), snapshot: \(quote(resource.snapshot)) }")
            add("    timeout: \(timeout("teardown-snapshot"))")
            add("  - id: \(claimInstance)")
            add("    description: registers the deletion of the drill instance, should anything later fail")
            add("    action: notify")
            add("    needs: [\(claimSnapshot)]")
            add("    with: { message: \(quote("drill instance \(resource.instance) in \(region), class \(settings.instanceClass) (deleted at the end)")) }")
            add("    compensate:")
            add("      action: aws.rds.delete-instance")
            add("      with: { region: \(region), instance: \(quote(resource.instance)), skip_final_snapshot: true }")
            add("    timeout: \(timeout("teardown-instance"))")
            add("  - id: \(snapshot)")
            add("    description: snapshot of the DR replica (read only for the replica)")
            add("    action: aws.rds.create-snapshot")
            add("    needs: [\(claimInstance)]")
            add("    with: { region: \(region), instance: \(quote(resource.source)), snapshot: \(quote(resource.snapshot)), tags: \(tags) }")
            add("    timeout: \(timeout("snapshot"))")
            add("    estimate: \(estimate("snapshot"))")
            add("    retry: { attempts: 3, backoff: 10s, on: [transient, throttling] }")
            add("    on_failure: rollback")
            add("  - id: \(restore)")
            add("    description: the drill copy, restored from the drill snapshot")
            add("    action: aws.rds.restore-from-snapshot")
            add("    needs: [\(snapshot)]")
            add("    with: { region: \(region), snapshot: \(quote(resource.snapshot)), instance: \(quote(resource.instance)), instance_class: \(quote(settings.instanceClass)), tags: \(tags) }")
            add("    timeout: \(timeout("restore"))")
            add("    estimate: \(estimate("restore"))")
            add("    retry: { attempts: 3, backoff: 10s, on: [transient, throttling] }")
            add("    on_failure: rollback")
            restores.append(restore)
        }

        var validations: [String] = []
        for check in settings.checks {
            let id = StepIdentifiers.slug(["check", check.name])
            var with = check.with
            let url = settings.validationURLEnv!
            if check.action == "postgres.replication-lag" {
                if with["standby_url"] == nil && with["standby_url_env"] == nil { with["standby_url_env"] = .string(url) }
                if with["url"] == nil && with["url_env"] == nil {
                    guard let primary = settings.primaryURLEnv else {
                        throw Problem(refusedByCostGuard: false, message: "check \(check.name) (postgres.replication-lag) needs drills.primary_url_env or url_env")
                    }
                    with["url_env"] = .string(primary)
                }
            } else if with["url"] == nil && with["url_env"] == nil {
                with["url_env"] = .string(url)
            }
            validations.append(id)
            add("  - id: \(id)")
            add("    description: \(quote("validation: \(check.name)"))")
            add("    action: \(check.action)")
            add("    needs: [\(restores.joined(separator: ", "))]")
            add("    with: \(flow(.map(with)))")
            add("    timeout: \(timeout("check"))")
            add("    estimate: \(estimate("check"))")
            add("    retry: { attempts: 3, backoff: 5s, on: [transient, timeout] }")
            add("    on_failure: rollback")
        }
        if rpoReason == nil {
            validations.append("measure-rpo")
            add("  - id: measure-rpo")
            add("    description: the restored copy's newest heartbeat against the primary's")
            add("    action: \(heartbeatAction)")
            add("    needs: [\(restores.joined(separator: ", "))]")
            add("    with: { primary_url_env: \(quote(settings.primaryURLEnv!)), copy_url_env: \(quote(settings.validationURLEnv!)) }")
            add("    timeout: \(timeout("rpo"))")
            add("    estimate: \(estimate("rpo"))")
            add("    retry: { attempts: 3, backoff: 5s, on: [transient, timeout] }")
            // A copy without heartbeats is evidence to report ("RPO not measured"), not a reason
            // to undo a drill whose data checks passed.
            add("    on_failure: continue")
        }

        var teardowns: [String] = []
        for resource in resources {
            let deleteInstance = StepIdentifiers.slug(["teardown-instance", resource.database])
            let deleteSnapshot = StepIdentifiers.slug(["teardown-snapshot", resource.database])
            let after = validations.isEmpty ? restores : validations
            add("  - id: \(deleteInstance)")
            add("    description: delete the drill copy (no final snapshot)")
            add("    action: aws.rds.delete-instance")
            add("    needs: [\(after.joined(separator: ", "))]")
            add("    with: { region: \(region), instance: \(quote(resource.instance)), skip_final_snapshot: true }")
            add("    timeout: \(timeout("teardown-instance"))")
            add("    estimate: \(estimate("teardown-instance"))")
            add("    retry: { attempts: 5, backoff: 10s, on: [transient, throttling, timeout] }")
            add("    on_failure: rollback")
            add("  - id: \(deleteSnapshot)")
            add("    description: delete the drill snapshot")
            add("    action: aws.rds.delete-snapshot")
            add("    needs: [\(deleteInstance)]")
            add("    with: { region: \(region), snapshot: \(quote(resource.snapshot)) }")
            add("    timeout: \(timeout("teardown-snapshot"))")
            add("    estimate: \(estimate("teardown-snapshot"))")
            add("    retry: { attempts: 5, backoff: 5s, on: [transient, throttling, timeout] }")
            add("    on_failure: rollback")
            teardowns.append(deleteSnapshot)
        }
        add("  - id: report")
        add("    action: notify")
        add("    needs: [\(teardowns.joined(separator: ", "))]")
        add("    with: { message: \(quote("drill of \(plan.name) in \(region) complete, drill copies deleted (run ${{ run.id }})")) }")
        add("    on_failure: continue")
        return Drill(name: name, text: lines.joined(separator: "\n") + "\n", resources: resources, estimate: chain, rpoNotMeasuredReason: rpoReason)
    }

    /// The id of a per-database step (`restore-orders`, `teardown-instance-orders`).
    public static func stepId(_ kind: String, _ database: String) -> String {
        StepIdentifiers.slug([kind, database])
    }

    /// The random part of a run id ("run-20261126-154431-3f9a2c" → "3f9a2c").
    public static func shortId(_ runId: String) -> String {
        String(runId.split(separator: "-").last ?? Substring(runId)).lowercased()
    }

    /// `drill-<plan>-<db>-<short run id>`: a valid RDS identifier (letters, digits, single hyphens,
    /// at most 63 characters), the run's part always kept.
    public static func resourceName(plan: String, database: String, short: String) -> String {
        let suffix = "-" + StepIdentifiers.slug([short])
        let head = StepIdentifiers.slug(["drill", plan, database])
        return String(head.prefix(63 - suffix.count)).trimmingCharacters(in: CharacterSet(charactersIn: "-")) + suffix
    }

    /// A YAML flow value.
    static func flow(_ value: RunValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        case .duration(let seconds): return DurationText.format(seconds)
        case .string(let text): return Self.quote(text)
        case .list(let items): return "[" + items.map(flow).joined(separator: ", ") + "]"
        case .map(let entries):
            return "{ " + entries.keys.sorted().map { "\(Self.quote($0)): \(flow(entries[$0]!))" }.joined(separator: ", ") + " }"
        }
    }

    /// A duration that reads back as exactly `seconds` (`15m`, else whole or fractional seconds).
    static func exactDuration(_ seconds: Double) -> String {
        let text = DurationText.format(seconds)
        return DurationText.parse(text) == seconds ? text : "\(seconds)s"
    }

    /// A YAML double-quoted string.
    static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
