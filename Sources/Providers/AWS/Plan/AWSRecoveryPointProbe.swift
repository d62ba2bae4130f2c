import DRCore
import Foundation

/// Measures, for every protected resource of a plan, how old its newest restorable point in the
/// DR region is: replica lag (CloudWatch), the newest available snapshot copy (DescribeDBSnapshots
/// in the DR region), the S3 replication backlog (the `aws.s3.replication-backlog` action, as the
/// failover preflight reads it). Read-only. A measurement that fails is unknown, never zero.
/// Every measurement goes out at once (the replicas' lags of a region in one GetMetricData): one
/// round trip for the whole plan, however many resources it protects.
struct AWSRecoveryPointProbe {
    let plan: DRPlan
    let backlogAction: (any RunbookAction)?
    let now: Date
    /// The plan's first AWS DR site: where AWS resources' restorable points must be.
    var drRegion: String { plan.drSites.first { $0.cloud == AWSPlanSectionKind.cloud }?.region ?? "" }
    private let lag: RDSReplicaLag
    private let rds: RDSClient

    init(plan: DRPlan, client: AWSClient, backlogAction: (any RunbookAction)?, now: Date) {
        self.plan = plan
        self.backlogAction = backlogAction
        self.now = now
        lag = RDSReplicaLag(client: client)
        rds = RDSClient(client: client)
    }

    func measure() async -> [ProtectedResourcePosture] {
        // One job per recovery point, in plan order, each with its resource's index; run at once.
        var jobs: [(resource: Int, measure: @Sendable () async -> RecoveryPointAge)] = []
        for (index, database) in plan.aws.databases.enumerated() {
            for replica in database.replicas where replica.region == drRegion {
                jobs.append((index, { await replicaLag(replica) }))
            }
            jobs.append((index, { await snapshotCopy(of: database) }))
        }
        let buckets = plan.aws.buckets.filter { $0.destinationRegion == drRegion }
        for (offset, bucket) in buckets.enumerated() {
            jobs.append((plan.aws.databases.count + offset, { await backlog(bucket) }))
        }
        let ages = await withTaskGroup(of: (Int, RecoveryPointAge).self) { group in
            for (position, job) in jobs.enumerated() { group.addTask { (position, await job.measure()) } }
            var ages: [Int: RecoveryPointAge] = [:]
            for await (position, age) in group { ages[position] = age }
            return ages
        }
        func points(_ resource: Int) -> [RecoveryPointAge] {
            jobs.indices.filter { jobs[$0].resource == resource }.compactMap { ages[$0] }
        }
        return plan.aws.databases.enumerated().map { index, database in
            ProtectedResourcePosture(name: database.name, type: "database", recoveryPoints: points(index))
        } + buckets.enumerated().map { offset, bucket in
            ProtectedResourcePosture(name: bucket.source, type: "bucket", recoveryPoints: points(plan.aws.databases.count + offset))
        }
    }

    func replicaLag(_ replica: AWSPlanSection.Endpoint) async -> RecoveryPointAge {
        let source = "\(replica.instance) (\(replica.region))"
        do {
            guard let point = try await lag.latest(region: replica.region, instance: replica.instance, now: now) else {
                return RecoveryPointAge(kind: .replicaLag, source: source, seconds: nil,
                                        detail: "no ReplicaLag datapoint in the last 10 minutes")
            }
            return RecoveryPointAge(kind: .replicaLag, source: source, seconds: max(0, point.seconds),
                                    detail: "ReplicaLag at \(DrillDue.timestamp(point.timestamp))")
        } catch {
            return RecoveryPointAge(kind: .replicaLag, source: source, seconds: nil, detail: "not readable: \(error)")
        }
    }

    /// The newest *available* snapshot of the primary that exists in the DR region. A copy keeps
    /// the primary's instance identifier and the original snapshot time, which is the point the
    /// data is from (the copy's own create time is when it was copied).
    func snapshotCopy(of database: AWSPlanSection.Database) async -> RecoveryPointAge {
        let region = drRegion
        do {
            let snapshots = try await rds.describeDBSnapshots(region: region, instance: database.primary.instance)
            let dated = snapshots.filter { $0.status == "available" }.compactMap { snapshot -> (DBSnapshot, Date)? in
                guard let text = snapshot.originalCreateTime ?? snapshot.createTime, let date = Self.parseTimestamp(text) else { return nil }
                return (snapshot, date)
            }
            guard let (newest, taken) = dated.max(by: { $0.1 < $1.1 }) else {
                return RecoveryPointAge(kind: .snapshotCopy, source: "\(database.primary.instance) snapshots (\(region))", seconds: nil,
                                        detail: "no available snapshot of \(database.primary.instance) in \(region)")
            }
            return RecoveryPointAge(kind: .snapshotCopy, source: "\(newest.identifier) (\(region))", seconds: max(0, now.timeIntervalSince(taken)),
                                    detail: "taken \(DrillDue.timestamp(taken))")
        } catch {
            return RecoveryPointAge(kind: .snapshotCopy, source: "\(database.primary.instance) snapshots (\(region))", seconds: nil,
                                    detail: "not readable: \(error)")
        }
    }

    func backlog(_ bucket: AWSPlanSection.BucketPair) async -> RecoveryPointAge {
        let source = "\(bucket.source) → \(bucket.destination)"
        guard let action = backlogAction else {
            return RecoveryPointAge(kind: .replicationBacklog, source: source, seconds: nil, detail: "aws.s3.replication-backlog is not available")
        }
        let read = await ActionInvocation.readOnly(action, arguments: ["region": .string(bucket.sourceRegion), "bucket": .string(bucket.source)],
                                                   purpose: "status", now: now)
        do {
            let outputs = try read.get()
            let failed = outputs["failed"]?.intValue ?? 0
            let detail = "\(outputs["pending"]?.description ?? "?") pending, \(failed) failed of \(outputs["sampled"]?.description ?? "?") newest objects sampled"
            // A FAILED object will never reach the DR region: its loss is not bounded.
            guard failed == 0 else { return RecoveryPointAge(kind: .replicationBacklog, source: source, seconds: nil, detail: detail) }
            return RecoveryPointAge(kind: .replicationBacklog, source: source,
                                    seconds: outputs["oldest_pending_age_seconds"]?.secondsValue ?? 0, detail: detail)
        } catch {
            return RecoveryPointAge(kind: .replicationBacklog, source: source, seconds: nil, detail: "not readable: \(error)")
        }
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
