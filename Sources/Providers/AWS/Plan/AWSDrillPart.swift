import DRCore
import Foundation

/// AWS's part of `drctl drill run`: for every plan database with a replica in the drill's region,
/// snapshot that replica, restore the snapshot as a drill instance (drill names, drill tags), and
/// after the checks delete the drill instance and the drill snapshot. Every mutating step names a
/// drill resource (the production replica is only read by CreateDBSnapshot).
///
/// The compensations hang on `claim-*` steps that run before anything is created, so they also
/// cover a snapshot or a restore that itself failed half-way (a failed step is not compensated, but
/// an earlier completed one is); every step after the claims has `on_failure: rollback`.
public enum AWSDrillPart {
    /// Estimates per step kind (seconds): what a small RDS PostgreSQL instance typically takes.
    static let estimates: [String: Double] = ["snapshot": 600, "restore": 1200, "teardown-instance": 600, "teardown-snapshot": 120]

    public static func make(plan: DRPlan, site: Site, runId: String, ids: inout StepIdentifiers) throws -> DrillPart {
        guard site.cloud == AWSPlanSectionKind.cloud else { return DrillPart() }
        let region = site.region, settings = plan.drill
        let databases = plan.aws.databases.filter { $0.replica(in: region) != nil }
        guard !databases.isEmpty else { return DrillPart() }
        if let maximum = settings.maxInstanceClass, let reason = InstanceClassSize.exceeds(settings.instanceClass, maximum: maximum) {
            throw DrillProblem(refusedByCostGuard: true, message: "cost guard: \(reason)")
        }
        let short = DrillComposer.shortId(runId)
        let production = Set(plan.aws.databases.flatMap { [$0.primary.instance] + $0.replicas.map(\.instance) })

        var part = DrillPart()
        func call(_ action: String, _ arguments: [String: RunValue]) -> ActionCall {
            ActionCall(action: action, with: arguments.mapValues { Template(constant: $0) })
        }
        func add(_ id: String, _ action: String, _ arguments: [String: RunValue], phase: DrillStep.Phase = .create, needs: [String] = [],
                 basis: String, estimated: Bool = true, retry: StepRetryPolicy = StepRetryPolicy(), onFailure: FailurePolicy = .rollback,
                 compensate: ActionCall? = nil, description: String) {
            let step = RunbookStep(id: id, call: call(action, arguments), needs: needs, retry: retry, estimate: estimated ? estimates[basis] : nil,
                                   onFailure: onFailure, compensate: compensate, description: description)
            part.steps.append(DrillStep(step, phase: phase, timeoutBasis: estimates[basis]!))
        }
        let creating = StepRetryPolicy(attempts: 3, backoff: 10, on: ["transient", "throttling"])
        var teardowns: [(database: String, instance: String, snapshot: String)] = []
        for database in databases {
            let name = resourceName(plan: plan.name, database: database.name, short: short)
            guard !production.contains(name) else {
                throw DrillProblem(refusedByCostGuard: false, message: "the drill name \(name) is the name of a production instance")
            }
            let tags: RunValue = .map(["drctl:drill": .string(runId), "drctl:plan": .string(plan.name), "drctl:database": .string(database.name)])
            let claimSnapshot = ids.make("claim-snapshot", database.name), claimInstance = ids.make("claim-instance", database.name)
            let snapshot = ids.make("snapshot", database.name), restore = ids.make("restore", database.name)
            add(claimSnapshot, "notify", ["message": .string("drill snapshot \(name) in \(region) (deleted at the end)")],
                basis: "teardown-snapshot", estimated: false, onFailure: .abort,
                compensate: call("aws.rds.delete-snapshot", ["region": .string(region), "snapshot": .string(name)]),
                description: "registers the deletion of the drill snapshot, should anything later fail")
            add(claimInstance, "notify", ["message": .string("drill instance \(name) in \(region), class \(settings.instanceClass) (deleted at the end)")],
                needs: [claimSnapshot], basis: "teardown-instance", estimated: false, onFailure: .abort,
                compensate: call("aws.rds.delete-instance", ["region": .string(region), "instance": .string(name), "skip_final_snapshot": .bool(true)]),
                description: "registers the deletion of the drill instance, should anything later fail")
            add(snapshot, "aws.rds.create-snapshot",
                ["region": .string(region), "instance": .string(database.replica(in: region)!.instance), "snapshot": .string(name), "tags": tags],
                needs: [claimInstance], basis: "snapshot", retry: creating, description: "snapshot of the DR replica (read only for the replica)")
            add(restore, "aws.rds.restore-from-snapshot",
                ["region": .string(region), "snapshot": .string(name), "instance": .string(name),
                 "instance_class": .string(settings.instanceClass), "tags": tags],
                needs: [snapshot], basis: "restore", retry: creating, description: "the drill copy, restored from the drill snapshot")
            part.copies.append(restore)
            let deleteInstance = ids.make("teardown-instance", database.name), deleteSnapshot = ids.make("teardown-snapshot", database.name)
            part.resources.append(DrillResource(database: database.name, site: site.description, source: database.replica(in: region)!.instance, created: [
                .init(kind: "snapshot", name: name, claim: claimSnapshot, teardown: deleteSnapshot),
                .init(kind: "instance", name: name, claim: claimInstance, teardown: deleteInstance),
            ], endpoint: .init(step: restore, host: "${{ steps.\(restore).outputs.address }}", port: "${{ steps.\(restore).outputs.port }}")))
            teardowns.append((database.name, deleteInstance, deleteSnapshot))
        }
        for (database, deleteInstance, deleteSnapshot) in teardowns {
            let name = resourceName(plan: plan.name, database: database, short: short)
            add(deleteInstance, "aws.rds.delete-instance", ["region": .string(region), "instance": .string(name), "skip_final_snapshot": .bool(true)],
                phase: .teardown(afterValidation: true),
                basis: "teardown-instance", retry: StepRetryPolicy(attempts: 5, backoff: 10, on: ["transient", "throttling", "timeout"]),
                description: "delete the drill copy (no final snapshot)")
            add(deleteSnapshot, "aws.rds.delete-snapshot", ["region": .string(region), "snapshot": .string(name)],
                phase: .teardown(afterValidation: false), needs: [deleteInstance], basis: "teardown-snapshot",
                retry: StepRetryPolicy(attempts: 5, backoff: 5, on: ["transient", "throttling", "timeout"]), description: "delete the drill snapshot")
        }
        return part
    }

    /// `drill-<plan>-<db>-<short run id>`: a valid RDS identifier (letters, digits, single hyphens,
    /// at most 63 characters), the run's part always kept.
    public static func resourceName(plan: String, database: String, short: String) -> String {
        let suffix = "-" + StepIdentifiers.slug([short])
        let head = StepIdentifiers.slug(["drill", plan, database])
        return String(head.prefix(63 - suffix.count)).trimmingCharacters(in: CharacterSet(charactersIn: "-")) + suffix
    }
}
