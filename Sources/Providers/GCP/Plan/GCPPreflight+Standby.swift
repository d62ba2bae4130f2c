import DRCore
import Foundation

/// The target site's readiness beyond the databases, as warnings (the steps they concern do not
/// stop a move either: node pools are `continue`, the transfer's run is evidence):
/// - each Storage Transfer job copying into the target: its newest operation FAILED / ABORTED, or
///   objects that failed to copy, mean the GCS copy is behind what the source holds;
/// - each standby node pool of the target: it exists, is RUNNING, and its autoscaler will not
///   shrink it below the plan's `node_count` (an autoscaling `max` under it, when the plan sets no
///   min/max of its own for the scale step to apply).
extension GCPCloudProvider {
    func transferChecks(_ move: Move, plan: DRPlan) async -> [PreflightCheck] {
        let gcp = plan.gcp
        let transfers = gcp.transfers.filter { $0.site == move.to }
        let reads = await transfers.concurrentMap { transfer in
            await ActionInvocation.readOnly("gcp.storage.transfer-status", among: actions(),
                                            arguments: ["project": .string(gcp.project), "job": .string(transfer.job)], purpose: "preflight")
        }
        return zip(transfers, reads).map { transfer, read in
            let name = "transfer \(transfer.job) into \(transfer.site)"
            switch read {
            case .failure(let error):
                return PreflightCheck(name: name, ok: false, detail: "not readable: \(error)", blocking: false)
            case .success(let outputs):
                let status = outputs["status"]?.stringValue ?? "unknown"
                let failed = outputs["objects_failed"]?.secondsValue.map { Int($0) } ?? 0
                let lastSuccess = outputs["last_success_age_seconds"]?.secondsValue
                let since = lastSuccess.map { "newest successful run ended \(DurationText.format($0)) ago" } ?? "no successful run"
                var problems: [String] = []
                if ["FAILED", "ABORTED"].contains(status) { problems.append("its newest run is \(status)") }
                if failed > 0 { problems.append("\(failed) object(s) failed to copy in its newest run") }
                if problems.isEmpty { return PreflightCheck(name: name, ok: true, detail: "newest run \(status); \(since)", blocking: false) }
                return PreflightCheck(name: name, ok: false, detail: problems.joined(separator: "; ") + " — the GCS copy is behind; \(since)",
                                      blocking: false)
            }
        }
    }

    func capacityChecks(_ move: Move, plan: DRPlan) async -> [PreflightCheck] {
        let gcp = plan.gcp
        let gke = GKEClient(source: source)
        let pools = gcp.standby[move.to] ?? []
        let deadline = Date().addingTimeInterval(120)
        let reads = await pools.concurrentMap { pool -> Result<GKEClient.NodePool?, any Error> in
            do {
                return .success(try await gke.pool(project: gcp.project, location: pool.location, cluster: pool.cluster, pool: pool.pool, deadline: deadline))
            } catch let error as GCPServiceError where error.category == .notFound {
                return .success(nil)
            } catch {
                return .failure(error)
            }
        }
        return zip(pools, reads).map { pool, read in
            let name = "standby node pool \(pool.cluster)/\(pool.pool) in \(pool.location)"
            switch read {
            case .failure(let error):
                return PreflightCheck(name: name, ok: false, detail: "not readable: \(error)", blocking: false)
            case .success(nil):
                return PreflightCheck(name: name, ok: false, detail: "does not exist in project \(gcp.project): no standby capacity to bring up", blocking: false)
            case .success(let found?):
                var problems: [String] = []
                if found.status != "RUNNING" { problems.append("status \(found.status ?? "unknown"), not RUNNING") }
                // The scale step applies the plan's min/max first; without them the pool's own autoscaler rules.
                let autoscaler = found.autoscaling.flatMap { $0.enabled == true ? $0.maxNodeCount : nil }
                if pool.max == nil, let max = autoscaler, max < pool.nodeCount {
                    problems.append("its autoscaling max \(max) is under the plan's node_count \(pool.nodeCount): the autoscaler would shrink it")
                }
                let ceiling = pool.max.map { "max \($0) (plan)" } ?? autoscaler.map { "max \($0) (autoscaler)" } ?? "no autoscaling"
                return problems.isEmpty
                    ? PreflightCheck(name: name, ok: true, detail: "RUNNING; node_count \(pool.nodeCount) within \(ceiling)", blocking: false)
                    : PreflightCheck(name: name, ok: false, detail: problems.joined(separator: "; "), blocking: false)
            }
        }
    }
}
