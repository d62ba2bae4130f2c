import DRCore
import Foundation

/// `drctl status` as a table or as JSON (the Prometheus form is `PrometheusExposition`).
enum PostureRenderer {
    struct Document: Encodable {
        struct Point: Encodable {
            let kind: String
            let source: String
            let seconds: Double?
            let state: String
            let detail: String
        }
        struct Resource: Encodable {
            let name: String
            let type: String
            let rpoSeconds: Double?
            let state: String
            let recoveryPoints: [Point]
        }
        struct Drill: Encodable {
            let run: String
            let status: String
            let startedAt: String
            let finishedAt: String
        }
        struct Lock: Encodable {
            let run: String
            let holder: String
            let host: String
            let pid: Int32
            let expiresAt: String
        }

        let plan: String
        let generatedAt: String
        let rpoBudgetSeconds: Double
        let state: String
        let resources: [Resource]
        let lastDrill: Drill?
        let lastSuccessfulDrill: Drill?
        /// The plan lock (`plan:NAME`) and, separately, the drill lock (`drill:NAME`).
        let lock: Lock?
        let drillLock: Lock?

        init(_ posture: RPOPosture) {
            let budget = posture.budgetSeconds
            plan = posture.plan
            generatedAt = DrillDue.timestamp(posture.generatedAt)
            rpoBudgetSeconds = budget
            state = posture.state.rawValue
            resources = posture.resources.map { resource in
                Resource(name: resource.name, type: resource.type, rpoSeconds: resource.rpoSeconds,
                         state: resource.state(budgetSeconds: budget).rawValue,
                         recoveryPoints: resource.recoveryPoints.map {
                             Point(kind: $0.kind.rawValue, source: $0.source, seconds: $0.seconds,
                                   state: RPOBudgetState(rpoSeconds: $0.seconds, budgetSeconds: budget).rawValue, detail: $0.detail)
                         })
            }
            let drill = { (drill: RPOPosture.Drill) in
                Drill(run: drill.runId, status: drill.status.rawValue, startedAt: DrillDue.timestamp(drill.startedAt),
                      finishedAt: DrillDue.timestamp(drill.finishedAt))
            }
            lastDrill = posture.lastDrill.map(drill)
            lastSuccessfulDrill = posture.lastSuccessfulDrill.map(drill)
            let describe = { (holder: LeaseHolder) in
                Lock(run: holder.runId, holder: holder.holder, host: holder.host, pid: holder.pid, expiresAt: DrillDue.timestamp(holder.expiresAt))
            }
            lock = posture.lockHolder.map(describe)
            drillLock = posture.drillLockHolder.map(describe)
        }
    }

    /// - Parameter drSites: where the plan's recovery points are (each provider measures its own sites).
    static func text(_ posture: RPOPosture, drSites: [String]) {
        let budget = posture.budgetSeconds
        let age = { (seconds: Double?) in seconds.map(DurationText.format) ?? "unknown" }
        print("Plan \(posture.plan): RPO budget \(DurationText.format(budget)), posture \(posture.state.rawValue.uppercased()) at \(DrillDue.timestamp(posture.generatedAt))")
        print("")
        if posture.resources.isEmpty {
            print("the plan protects no resource")
        } else {
            TextTable.print([["RESOURCE", "TYPE", "RPO NOW", "OF BUDGET", "STATE"]] + posture.resources.map { resource in
                let share = resource.rpoSeconds.map { "\(Int(saturating: ($0 / budget * 100).rounded()))%" } ?? "-"
                return [resource.name, resource.type, age(resource.rpoSeconds), share, resource.state(budgetSeconds: budget).rawValue]
            })
            print("")
            print("Recovery points in the plan's DR sites (\(drSites.joined(separator: ", ")))")
            TextTable.print([["  RESOURCE", "KIND", "SOURCE", "AGE", "STATE", "DETAIL"]] + posture.resources.flatMap { resource in
                resource.recoveryPoints.map {
                    ["  " + resource.name, $0.kind.rawValue, $0.source, age($0.seconds),
                     RPOBudgetState(rpoSeconds: $0.seconds, budgetSeconds: budget).rawValue, $0.detail]
                }
            })
        }
        print("")
        if let drill = posture.lastDrill {
            print("Last drill: \(drill.runId) \(drill.status.rawValue), finished \(DrillDue.timestamp(drill.finishedAt))")
            if let success = posture.lastSuccessfulDrill, success.runId != drill.runId {
                print("Last successful drill: \(success.runId), finished \(DrillDue.timestamp(success.finishedAt))")
            }
        } else {
            print("Last drill: none on record")
        }
        for (scope, holder) in [(RPOPosture.planLockScope(posture.plan), posture.lockHolder),
                                (RPOPosture.drillLockScope(posture.plan), posture.drillLockHolder)] {
            if let holder {
                print("Lock \(scope): held by \(holder.holder)@\(holder.host) pid \(holder.pid) (run \(holder.runId)) until \(DrillDue.timestamp(holder.expiresAt))")
            } else {
                print("Lock \(scope): free")
            }
        }
    }
}
