import DRCore
import Foundation

/// Google Cloud's part of `drctl drill run` in a `gcp:` site: for every plan database with a
/// Cloud SQL replica there, a clone of that replica (`gcp.sql.clone`, named `drctl-drill-…` so that
/// `gcp.sql.delete-instance` may delete it and nothing else), deleted after the checks.
///
/// The clone is of the replica's data as of the step (no `point_in_time`): Cloud SQL keeps no
/// point-in-time recovery on read replicas, so a point in time would need the primary — which is
/// in another region, or another cloud. The deletion hangs on a `claim-*` step that runs before
/// the clone is asked for, so a clone that failed half-way is deleted too (as `AWSDrillPart`).
/// The checks reach the clone through `drills.validation.url_template`, filled with the clone's
/// private (else primary) IP address, as `gcp.sql.clone` outputs it (`primary_ip`).
public enum GCPDrillPart {
    /// Seconds per step kind: what a small Cloud SQL PostgreSQL clone typically takes.
    static let estimates: [String: Double] = ["clone": 1200, "teardown-instance": 600]
    /// Cloud SQL for PostgreSQL listens on 5432 on every address (it cannot be changed), so
    /// `drills.validation.url_template` gets the clone's IP as `{host}` and this as `{port}`.
    static let postgresPort = "5432"

    public static func make(plan: DRPlan, site: Site, runId: String, ids: inout StepIdentifiers) throws -> DrillPart {
        guard site.cloud == GCPProvider.name else { return DrillPart() }
        let gcp = plan.gcp
        let databases = gcp.databases.filter { $0.replica(in: site) != nil }
        guard !databases.isEmpty else { return DrillPart() }
        let short = DrillComposer.shortId(runId)
        let production = Set(gcp.databases.flatMap { database -> [String] in
            var names = database.replicas.map(\.instance)
            if case .cloudSQL(let primary) = database.primary { names.append(primary.instance) }
            return names
        })
        let project = RunValue.string(gcp.project)
        var part = DrillPart()
        func call(_ action: String, _ arguments: [String: RunValue]) -> ActionCall {
            let arguments = action.hasPrefix(GCPProvider.name + ".") ? arguments.merging(gcp.caller.arguments) { $1 } : arguments
            return ActionCall(action: action, with: arguments.mapValues { Template(constant: $0) })
        }
        func add(_ id: String, _ action: String, _ arguments: [String: RunValue], phase: DrillStep.Phase = .create, needs: [String] = [],
                 basis: String, estimated: Bool = true, retry: StepRetryPolicy = StepRetryPolicy(), onFailure: FailurePolicy = .rollback,
                 compensate: ActionCall? = nil, description: String) {
            let step = RunbookStep(id: id, call: call(action, arguments), needs: needs, retry: retry, estimate: estimated ? estimates[basis] : nil,
                                   onFailure: onFailure, compensate: compensate, description: description)
            part.steps.append(DrillStep(step, phase: phase, timeoutBasis: estimates[basis]!))
        }
        var teardowns: [(database: String, id: String, name: String)] = []
        for database in databases {
            guard let replica = database.replica(in: site) else { continue }
            let name = resourceName(plan: plan.name, database: database.name, short: short)
            guard !production.contains(name) else {
                throw DrillProblem(refusedByCostGuard: false, message: "the drill name \(name) is the name of a production instance")
            }
            let claim = ids.make("claim-instance", database.name), clone = ids.make("clone", database.name)
            let teardown = ids.make("teardown-instance", database.name)
            add(claim, "notify", ["message": .string("drill instance \(name) in \(site), cloned from \(replica.instance) (deleted at the end)")],
                basis: "teardown-instance", estimated: false, onFailure: .abort,
                compensate: call("gcp.sql.delete-instance", ["project": project, "instance": .string(name)]),
                description: "registers the deletion of the drill clone, should anything later fail")
            add(clone, "gcp.sql.clone", ["project": project, "instance": .string(replica.instance), "name": .string(name)],
                needs: [claim], basis: "clone", retry: StepRetryPolicy(attempts: 3, backoff: 10, on: ["transient", "throttling"]),
                description: "the drill copy: a clone of the DR replica \(replica.instance) (read only for the replica)")
            part.copies.append(clone)
            part.resources.append(DrillResource(database: database.name, site: site.description, source: replica.instance,
                                                created: [.init(kind: "instance", name: name, claim: claim, teardown: teardown)],
                                                endpoint: .init(step: clone, host: "${{ steps.\(clone).outputs.primary_ip }}", port: postgresPort)))
            teardowns.append((database.name, teardown, name))
        }
        for (_, teardown, name) in teardowns {
            add(teardown, "gcp.sql.delete-instance", ["project": project, "instance": .string(name)], phase: .teardown(afterValidation: true),
                basis: "teardown-instance", retry: StepRetryPolicy(attempts: 5, backoff: 10, on: ["transient", "throttling", "timeout"]),
                description: "delete the drill clone")
        }
        return part
    }

    /// `drctl-drill-<plan>-<db>-<short run id>`: a valid Cloud SQL instance name that
    /// `gcp.sql.delete-instance` recognises as a drill's (its `drctl-drill-` prefix), the run's part always kept.
    public static func resourceName(plan: String, database: String, short: String) -> String {
        let suffix = "-" + StepIdentifiers.slug([short])
        let head = StepIdentifiers.slug(["drctl-drill", plan, database])
        return String(head.prefix(98 - suffix.count)).trimmingCharacters(in: CharacterSet(charactersIn: "-")) + suffix
    }
}
