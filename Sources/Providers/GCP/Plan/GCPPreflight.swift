import DRCore
import Foundation

/// The read-only checks of a move for Google Cloud: who drctl acts as (blocking: without
/// credentials no step of this provider can run), and for every database that moves, the
/// replica's lag behind its primary — the data the move would lose. A lag that cannot be read is
/// an unknown loss for the RPO gate, never 0. Then, as warnings, the transfer jobs' health and the
/// standby capacity (`GCPPreflight+Standby.swift`).
extension GCPCloudProvider {
    public func preflight(_ move: Move, plan: DRPlan) async -> PreflightFindings {
        await GCPCaller.$current.withValue(plan.gcp.caller) { await checks(move, plan: plan) }
    }

    private func checks(_ move: Move, plan: DRPlan) async -> PreflightFindings {
        let gcp = plan.gcp
        guard gcp.hasWork(from: move.from, to: move.to) else { return PreflightFindings() }
        var findings = PreflightFindings()
        do {
            let identity = try await identity(as: gcp.caller)
            findings.checks.append(PreflightCheck(name: "Google credentials", ok: true, detail: "acting as \(identity.principal)", blocking: true))
        } catch {
            findings.checks.append(PreflightCheck(name: "Google credentials", ok: false, detail: "\(error)", blocking: true))
        }
        let moving = gcp.moving(from: move.from, to: move.to)
        let lags = await moving.map(\.replica).concurrentMap { replica in
            await ActionInvocation.readOnly("gcp.sql.replica-lag", among: actions(),
                                            arguments: ["project": .string(gcp.project), "instance": .string(replica.instance)], purpose: "preflight")
        }
        for ((database, replica), lag) in zip(moving, lags) {
            let name = "database \(database.name) replica lag (\(replica.instance) in \(replica.site))"
            switch lag {
            case .success(let outputs):
                if let seconds = outputs["lag_seconds"]?.secondsValue, seconds.isFinite, seconds >= 0 {
                    findings.losses.append(seconds)
                    findings.checks.append(PreflightCheck(name: name, ok: true, detail: """
                        \(DurationText.format(seconds)) (Cloud Monitoring replica_lag at \(outputs["measured_at"]?.description ?? "?"))
                        """, blocking: false))
                } else {
                    findings.unknownLossReasons.append("\(database.name): the replica's lag sample is not a number of seconds")
                    findings.checks.append(PreflightCheck(name: name, ok: false, detail: "unknown: no usable replica_lag sample", blocking: false))
                }
            case .failure(let error):
                findings.unknownLossReasons.append("\(database.name): the replica's lag is not readable")
                findings.checks.append(PreflightCheck(name: name, ok: false, detail: "unknown: \(error)", blocking: false))
            }
        }
        findings.checks += await transferChecks(move, plan: plan)
        findings.checks += await capacityChecks(move, plan: plan)
        return findings
    }
}
