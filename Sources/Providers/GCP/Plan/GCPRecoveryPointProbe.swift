import DRCore
import Foundation

/// `drctl status` for the `gcp:` section: in each Google Cloud DR site, per database its replica's
/// lag (Cloud Monitoring `replica_lag`, one `timeSeries.list` per project for all replicas: the
/// reads go out together and `CloudSQLReplicaLag` coalesces them) and the age of its newest
/// successful backup run; per Storage Transfer job the age of its newest successful run. Read-only;
/// what cannot be read is unknown (nil), never 0.
///
/// Resources are named `NAME (SITE)`: the same database is usually in the `aws:` section too (the
/// RDS primary this replica follows), and Prometheus series are keyed by resource and kind.
struct GCPRecoveryPointProbe {
    let plan: DRPlan
    let sql: CloudSQLClient
    let actions: [any RunbookAction]
    let now: Date

    /// The plan's DR sites in Google Cloud, in plan order.
    var sites: [Site] { plan.drSites.filter { $0.cloud == GCPProvider.name } }

    func measure() async -> [ProtectedResourcePosture] {
        let gcp = plan.gcp
        var resources: [(name: String, type: String, probes: [@Sendable () async -> RecoveryPointAge?])] = []
        for site in sites {
            for database in gcp.databases {
                guard let replica = database.replica(in: site) else { continue }
                var backupSources = [replica.instance]
                if case .cloudSQL(let primary) = database.primary { backupSources.insert(primary.instance, at: 0) }
                let external = if case .external = database.primary { true } else { false }
                resources.append(("\(database.name) (\(site))", "database", [
                    { await replicaLag(project: gcp.project, replica) },
                    { [backupSources] in await newestBackup(project: gcp.project, instances: backupSources, site: site, omitWhenNone: external) },
                ]))
            }
            for transfer in gcp.transfers where transfer.site == site {
                resources.append(("\(transfer.job) (\(site))", "bucket", [{ await transferAge(project: gcp.project, transfer) }]))
            }
        }
        let measured = await resources.concurrentMap { resource in
            await resource.probes.concurrentMap { await $0() }.compactMap { $0 }
        }
        return zip(resources, measured).map { ProtectedResourcePosture(name: $0.name, type: $0.type, recoveryPoints: $1) }
    }

    private func replicaLag(project: String, _ replica: GCPPlanSection.Instance) async -> RecoveryPointAge {
        let source = "\(replica.instance) (\(replica.site))"
        switch await ActionInvocation.readOnly("gcp.sql.replica-lag", among: actions,
                                               arguments: ["project": .string(project), "instance": .string(replica.instance)], purpose: "status") {
        case .success(let outputs):
            guard let seconds = outputs["lag_seconds"]?.secondsValue, seconds.isFinite else {
                return RecoveryPointAge(kind: .replicaLag, source: source, seconds: nil, detail: "the replica_lag sample is not a number of seconds")
            }
            return RecoveryPointAge(kind: .replicaLag, source: source, seconds: max(0, seconds),
                                    detail: "Cloud Monitoring replica_lag at \(outputs["measured_at"]?.description ?? "?")")
        case .failure(let error):
            return RecoveryPointAge(kind: .replicaLag, source: source, seconds: nil, detail: "not readable: \(error)")
        }
    }

    /// The newest SUCCESSFUL backup run of the database's Cloud SQL instances (the primary's, and
    /// the replica's own once it has any). For a primary outside Google Cloud with no backup run in
    /// Cloud SQL, nothing: its backups are its own provider's to report.
    private func newestBackup(project: String, instances: [String], site: Site, omitWhenNone: Bool) async -> RecoveryPointAge? {
        let source = "\(instances.joined(separator: ", ")) backup runs"
        let deadline = now.addingTimeInterval(120)
        let listed = await instances.concurrentMap { [sql] instance -> Result<[SQLBackupRun], any Error> in
            do { return .success(try await sql.backupRuns(project: project, instance: instance, deadline: deadline)) } catch { return .failure(error) }
        }
        do {
            let runs = try listed.map { try $0.get() }
            let newest = runs.joined().filter { $0.status == "SUCCESSFUL" }.compactMap { run in run.endTime.flatMap(RFC3339.parse).map { (run, $0) } }
                .max { $0.1 < $1.1 }
            guard let (run, ended) = newest else {
                return omitWhenNone ? nil : RecoveryPointAge(kind: .backup, source: source, seconds: nil, detail: "no successful backup run")
            }
            return RecoveryPointAge(kind: .backup, source: "backup run \(run.id ?? "?") (\(site))", seconds: max(0, now.timeIntervalSince(ended)),
                                    detail: "\(run.type ?? "backup") ended \(GCPActions.timestamp(ended))")
        } catch {
            return RecoveryPointAge(kind: .backup, source: source, seconds: nil, detail: "not readable: \(error)")
        }
    }

    private func transferAge(project: String, _ transfer: GCPPlanSection.Transfer) async -> RecoveryPointAge {
        let source = "\(transfer.job) (\(transfer.site))"
        switch await ActionInvocation.readOnly("gcp.storage.transfer-status", among: actions,
                                               arguments: ["project": .string(project), "job": .string(transfer.job)], purpose: "status") {
        case .success(let outputs):
            let newest = "newest run \(outputs["status"]?.description ?? "?")"
            guard let seconds = outputs["last_success_age_seconds"]?.secondsValue, seconds.isFinite else {
                return RecoveryPointAge(kind: .transfer, source: source, seconds: nil, detail: "no successful run (\(newest))")
            }
            return RecoveryPointAge(kind: .transfer, source: source, seconds: max(0, seconds),
                                    detail: "last success ended \(outputs["last_success_end_time"]?.description ?? "?"); \(newest)")
        case .failure(let error):
            return RecoveryPointAge(kind: .transfer, source: source, seconds: nil, detail: "not readable: \(error)")
        }
    }
}
