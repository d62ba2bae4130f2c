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
        /// The runbook as a value; `text` is its rendering (what `--print-runbook` shows and the run pins).
        public let runbook: Runbook
        public var text: String { RunbookRenderer.render(runbook) }
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
        func timeout(_ kind: String) -> Double { (estimates[kind]! * scale).rounded(.down) }
        func estimate(_ kind: String) -> Double { estimates[kind]! }

        let name = StepIdentifiers.slug(["drill", plan.name, region])
        var steps: [RunbookStep] = []
        func call(_ action: String, _ arguments: [String: RunValue]) -> ActionCall {
            ActionCall(action: action, with: arguments.mapValues { Template(constant: $0) })
        }
        func add(_ id: String, _ action: String, _ arguments: [String: RunValue], needs: [String] = [], timeout: Double? = nil,
                 estimate: Double? = nil, retry: StepRetryPolicy = StepRetryPolicy(), onFailure: FailurePolicy = .abort,
                 compensate: ActionCall? = nil, description: String = "") {
            steps.append(RunbookStep(id: id, call: call(action, arguments), needs: needs, timeout: timeout, retry: retry, estimate: estimate,
                                     onFailure: onFailure, compensate: compensate, description: description))
        }
        let creating = StepRetryPolicy(attempts: 3, backoff: 10, on: ["transient", "throttling"])
        var restores: [String] = []
        for resource in resources {
            let tags: RunValue = .map(["drctl:drill": .string(runId), "drctl:plan": .string(plan.name), "drctl:database": .string(resource.database)])
            let claimSnapshot = stepId("claim-snapshot", resource.database), claimInstance = stepId("claim-instance", resource.database)
            let snapshot = stepId("snapshot", resource.database), restore = stepId("restore", resource.database)
            add(claimSnapshot, "notify", ["message": .string("drill snapshot \(resource.snapshot) in \(region) (deleted at the end)")],
                timeout: timeout("teardown-snapshot"),
                compensate: call("aws.rds.delete-snapshot", ["region": .string(region), "snapshot": .string(resource.snapshot)]),
                description: "registers the deletion of the drill snapshot, should anything later fail")
            add(claimInstance, "notify",
                ["message": .string("drill instance \(resource.instance) in \(region), class \(settings.instanceClass) (deleted at the end)")],
                needs: [claimSnapshot], timeout: timeout("teardown-instance"),
                compensate: call("aws.rds.delete-instance", ["region": .string(region), "instance": .string(resource.instance),
                                                             "skip_final_snapshot": .bool(true)]),
                description: "registers the deletion of the drill instance, should anything later fail")
            add(snapshot, "aws.rds.create-snapshot",
                ["region": .string(region), "instance": .string(resource.source), "snapshot": .string(resource.snapshot), "tags": tags],
                needs: [claimInstance], timeout: timeout("snapshot"), estimate: estimate("snapshot"), retry: creating, onFailure: .rollback,
                description: "snapshot of the DR replica (read only for the replica)")
            add(restore, "aws.rds.restore-from-snapshot",
                ["region": .string(region), "snapshot": .string(resource.snapshot), "instance": .string(resource.instance),
                 "instance_class": .string(settings.instanceClass), "tags": tags],
                needs: [snapshot], timeout: timeout("restore"), estimate: estimate("restore"), retry: creating, onFailure: .rollback,
                description: "the drill copy, restored from the drill snapshot")
            restores.append(restore)
        }

        let validating = StepRetryPolicy(attempts: 3, backoff: 5, on: ["transient", "timeout"])
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
            add(id, check.action, with, needs: restores, timeout: timeout("check"), estimate: estimate("check"), retry: validating,
                onFailure: .rollback, description: "validation: \(check.name)")
        }
        if rpoReason == nil {
            validations.append("measure-rpo")
            // A copy without heartbeats is evidence to report ("RPO not measured"), not a reason
            // to undo a drill whose data checks passed.
            add("measure-rpo", heartbeatAction,
                ["primary_url_env": .string(settings.primaryURLEnv!), "copy_url_env": .string(settings.validationURLEnv!)],
                needs: restores, timeout: timeout("rpo"), estimate: estimate("rpo"), retry: validating, onFailure: .continue,
                description: "the restored copy's newest heartbeat against the primary's")
        }

        var teardowns: [String] = []
        for resource in resources {
            let deleteInstance = stepId("teardown-instance", resource.database), deleteSnapshot = stepId("teardown-snapshot", resource.database)
            add(deleteInstance, "aws.rds.delete-instance",
                ["region": .string(region), "instance": .string(resource.instance), "skip_final_snapshot": .bool(true)],
                needs: validations.isEmpty ? restores : validations, timeout: timeout("teardown-instance"), estimate: estimate("teardown-instance"),
                retry: StepRetryPolicy(attempts: 5, backoff: 10, on: ["transient", "throttling", "timeout"]), onFailure: .rollback,
                description: "delete the drill copy (no final snapshot)")
            add(deleteSnapshot, "aws.rds.delete-snapshot", ["region": .string(region), "snapshot": .string(resource.snapshot)],
                needs: [deleteInstance], timeout: timeout("teardown-snapshot"), estimate: estimate("teardown-snapshot"),
                retry: StepRetryPolicy(attempts: 5, backoff: 5, on: ["transient", "throttling", "timeout"]), onFailure: .rollback,
                description: "delete the drill snapshot")
            teardowns.append(deleteSnapshot)
        }
        let message = try TemplateParser.parse("drill of \(plan.name) in \(region) complete, drill copies deleted (run ${{ run.id }})")
        steps.append(RunbookStep(id: "report", call: ActionCall(action: "notify", with: ["message": message]), needs: teardowns, onFailure: .continue))
        // The plan's budgets, so that the run's progress and its evidence judge the drill against
        // them (as the failover runbook does): a drill measures whether the plan's RTO and RPO hold.
        let runbook = Runbook(name: name, description: "Drill of \(plan.name) in \(region): restore, validate, measure RPO/RTO, tear down",
                              budgets: plan.budgets, steps: steps, source: RunbookSource(path: "generated:\(name).yaml", digest: ""))
        return Drill(name: name, runbook: runbook, resources: resources, estimate: chain, rpoNotMeasuredReason: rpoReason)
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
}
