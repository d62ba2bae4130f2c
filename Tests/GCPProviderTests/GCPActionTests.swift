import DRCore
import Foundation
import Testing
@testable import GCPProvider

/// Replica lag, drills (backup, clone, delete), Cloud DNS, GKE and Storage actions against the stand-in.
@Suite(.serialized) struct GCPActionTests {
    @Test func replicaLagOfManyInstancesIsOneMonitoringCallAndAbsentDataIsUnknown() async throws {
        let h = try await GCPActionHarness()
        let names = (1...3).map { h.name("replica\($0)") }
        for (index, name) in names.enumerated() {
            try await h.bed.admin("POST", "monitoring/series", ["database_id": "\(h.bed.project):\(name)",
                                                               "points": [["seconds_ago": 200, "value": 9.0], ["seconds_ago": 30, "value": Double(index) + 1.5]]])
        }
        let before = try await h.bed.calls("monitoring.projects.timeSeries.list")
        let lags = try await withThrowingTaskGroup(of: (String, [String: RunValue]).self) { group in
            for name in names { group.addTask { (name, try await h.perform("gcp.sql.replica-lag", ["project": .string(h.bed.project), "instance": .string(name)])) } }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(lags[names[0]]?["lag_seconds"] == .double(1.5) && lags[names[2]]?["lag_seconds"] == .double(3.5))
        #expect(lags[names[1]]?["measured_at"]?.stringValue?.hasSuffix("Z") == true)
        #expect(try await h.bed.calls("monitoring.projects.timeSeries.list") - before == 1)
        let unknown = await #expect(throws: ActionError.self) {
            try await h.perform("gcp.sql.replica-lag", ["project": .string(h.bed.project), "instance": .string(h.name("silent"))])
        }
        #expect(unknown?.message.contains("unknown") == true)
        try await h.bed.expectNoViolations()
    }

    @Test func drillBackupCloneAtAPointInTimeAndTeardown() async throws {
        let h = try await GCPActionHarness()
        let source = h.name("orders")
        try await h.seedInstance(["name": source])
        let project = RunValue.string(h.bed.project)
        let backup = try await h.perform("gcp.sql.create-backup", ["project": project, "instance": .string(source)])
        #expect(backup["status"] == .string("SUCCESSFUL") && backup["backup_run_id"]?.stringValue != nil)
        let inserts = try await h.bed.calls("sql.backupRuns.insert")
        _ = try await h.perform("gcp.sql.create-backup", h.invocation(["project": project, "instance": .string(source)], attempt: 2))
        #expect(try await h.bed.calls("sql.backupRuns.insert") == inserts, "a retry finds its own backup")

        let pointInTime = GCPActions.timestamp(Date().addingTimeInterval(-120))
        let clone = try await h.perform("gcp.sql.clone", ["project": project, "instance": .string(source), "point_in_time": .string(pointInTime)])
        let cloneName = try #require(clone["instance"]?.stringValue)
        #expect(cloneName.hasPrefix("drctl-drill-") && clone["state"] == .string("RUNNABLE"))
        #expect(clone["primary_ip"]?.stringValue != nil && clone["connection_name"]?.stringValue?.hasSuffix(cloneName) == true)

        let refused = await #expect(throws: ActionError.self) {
            try await h.perform("gcp.sql.delete-instance", ["project": project, "instance": .string(source)])
        }
        #expect(refused?.message.contains("refusing to delete") == true)
        let deleted = try await h.perform("gcp.sql.delete-instance", ["project": project, "instance": .string(cloneName)])
        #expect(deleted["deleted"] == .bool(true) && deleted["existed"] == .bool(true))
        #expect(try await h.instance(cloneName) == nil)
        let again = try await h.perform("gcp.sql.delete-instance", ["project": project, "instance": .string(cloneName)])
        #expect(again["existed"] == .bool(false))
        try await h.bed.expectNoViolations()
    }

    @Test func aCloneOutsideTheRecoveryWindowFails() async throws {
        let h = try await GCPActionHarness()
        let source = h.name("orders")
        try await h.seedInstance(["name": source])
        let error = await #expect(throws: ActionError.self) {
            try await h.perform("gcp.sql.clone", ["project": .string(h.bed.project), "instance": .string(source),
                                                  "point_in_time": .string(GCPActions.timestamp(Date().addingTimeInterval(-30 * 86400)))])
        }
        #expect(error?.kind == .permanent && error?.message.contains("recovery window") == true)
        try await h.bed.expectNoViolations()
    }

    func zone(_ h: GCPActionHarness, values: [String]) async throws -> (zone: String, record: String) {
        let zone = h.name("zone"), domain = "\(h.tag).example.com."
        try await h.bed.admin("POST", "dns/zones", ["name": zone, "dnsName": domain,
                                                   "records": [["name": "db.\(domain)", "type": "A", "ttl": 60, "rrdatas": values]]])
        return (zone, "db.\(domain)")
    }

    @Test func setRecordReplacesExactlyWhatItReadAndWaitsUntilDone() async throws {
        let h = try await GCPActionHarness()
        let (zone, record) = try await zone(h, values: ["10.0.0.1"])
        let args: [String: RunValue] = ["project": .string(h.bed.project), "zone": .string(zone), "name": .string(record), "type": .string("A"),
                                        "ttl": .int(30), "values": .list([.string("10.1.0.7")])]
        let outputs = try await h.perform("gcp.dns.set-record", args)
        #expect(outputs["changed"] == .bool(true) && outputs["previous_values"] == .list([.string("10.0.0.1")]) && outputs["change_id"]?.stringValue != nil)
        let changes = try await h.bed.calls("dns.changes.create")
        let again = try await h.perform("gcp.dns.set-record", h.invocation(args, attempt: 2))
        let changesAfter = try await h.bed.calls("dns.changes.create")
        #expect(again["changed"] == .bool(false) && changesAfter == changes)
        try await h.bed.expectNoViolations()
    }

    @Test func aConcurrentChangeIsReadAgainAndRetried() async throws {
        let h = try await GCPActionHarness()
        let (zone, record) = try await zone(h, values: ["10.0.0.1"])
        // Between drctl's read and its change, someone else changes the record: Cloud DNS answers 412.
        let domain = "\(h.tag).example.com."
        let interfering = InterferingTransport(inner: h.bed.transport, onFirstChange: {
            _ = try? await h.bed.admin("POST", "dns/zones", ["name": zone, "dnsName": domain,
                                                             "records": [["name": record, "type": "A", "ttl": 60, "rrdatas": ["10.9.9.9"]]]])
        })
        let env = h.environment
        let client = GCPClient(transport: interfering, credentials: try await h.bed.credentials(env), endpoints: try GCPEndpoints(environment: env),
                               retry: RetryStrategy(maxAttempts: 3, baseDelay: 0.01, maximumBackoff: 0.05))
        let action = DNSSetRecordAction(dns: CloudDNSClient(source: GCPClientSource(client: client)))
        let invocation = h.invocation(["project": .string(h.bed.project), "zone": .string(zone), "name": .string(record), "type": .string("A"),
                                       "ttl": .int(30), "values": .list([.string("10.1.0.7")])])
        let acted = try await action.act(invocation)
        let outputs = try await action.verify(invocation, acted: acted)
        #expect(outputs["previous_values"] == RunValue.list([.string("10.9.9.9")]), "the second attempt deletes what it read again")
        let zones = try await h.bed.admin("GET", "dns/zones") as? [[String: Any]] ?? []
        let rrsets = zones.first { ($0["zone"] as? [String: Any])?["name"] as? String == zone }?["rrsets"] as? [[String: Any]] ?? []
        #expect(rrsets.first { $0["name"] as? String == record }?["rrdatas"] as? [String] == ["10.1.0.7"])
        try await h.bed.expectNoViolations()
    }

    @Test func scaleNodePoolSetsAutoscalingThenSizeAndWaitsForTheNodes() async throws {
        let h = try await GCPActionHarness()
        let cluster = h.name("standby")
        try await h.bed.admin("POST", "container/clusters", ["name": cluster, "location": "us-central1",
                                                             "nodePools": [["name": "workers", "nodeCount": 0]]])
        let outputs = try await h.perform("gcp.gke.scale-node-pool", ["project": .string(h.bed.project), "location": .string("us-central1"),
                                                                       "cluster": .string(cluster), "pool": .string("workers"), "node_count": .int(3),
                                                                       "min_nodes": .int(2), "max_nodes": .int(20)])
        #expect(outputs["status"] == .string("RUNNING") && outputs["cluster_node_count"] == .int(3))
        #expect(try await h.bed.calls("container.projects.locations.clusters.nodePools.setAutoscaling") >= 1)
        try await h.bed.expectNoViolations()
    }

    @Test func transferStatusAndBucketReplication() async throws {
        let h = try await GCPActionHarness()
        let job = "transferJobs/\(abs(h.tag.hashValue) % 1_000_000_000)"
        try await h.bed.admin("POST", "storagetransfer/jobs", ["name": job])
        try await h.bed.admin("POST", "storagetransfer/operations", ["job": job, "status": "SUCCESS", "started_seconds_ago": 900, "ended_seconds_ago": 600])
        try await h.bed.admin("POST", "storagetransfer/operations", ["job": job, "status": "FAILED", "started_seconds_ago": 300, "ended_seconds_ago": 100,
                                                                     "objectsFromSourceFailed": 4])
        let status = try await h.perform("gcp.storage.transfer-status", ["project": .string(h.bed.project), "job": .string(job)])
        #expect(status["status"] == .string("FAILED") && status["objects_failed"] == .int(4))
        let age = try #require(status["last_success_age_seconds"]?.secondsValue ?? { if case .double(let d)? = status["last_success_age_seconds"] { return d }; return nil }())
        #expect(age > 590 && age < 700)

        let bucket = h.name("drctl-dr")
        try await h.bed.admin("POST", "storage/buckets", ["name": bucket, "locationType": "dual-region", "rpo": "ASYNC_TURBO",
                                                          "dataLocations": ["us-central1", "us-east1"]])
        let replication = try await h.perform("gcp.storage.bucket-replication", ["bucket": .string(bucket), "require_turbo": .bool(true)])
        #expect(replication["turbo"] == .bool(true) && replication["data_locations"] == .list([.string("US-CENTRAL1"), .string("US-EAST1")]))
        let plain = h.name("drctl-plain")
        try await h.bed.admin("POST", "storage/buckets", ["name": plain])
        await #expect(throws: ActionError.self) {
            try await h.perform("gcp.storage.bucket-replication", ["bucket": .string(plain), "require_turbo": .bool(true)])
        }
        try await h.bed.expectNoViolations()
    }
}

/// Passes requests through; before the first `changes.create` goes out, runs `onFirstChange`.
final class InterferingTransport: HTTPTransport, @unchecked Sendable {
    let inner: any HTTPTransport
    let onFirstChange: @Sendable () async -> Void
    private let lock = NSLock()
    private var fired = false

    init(inner: any HTTPTransport, onFirstChange: @escaping @Sendable () async -> Void) {
        self.inner = inner
        self.onFirstChange = onFirstChange
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        if request.url.contains("/changes"), request.method == "POST", lock.withLock({ let first = !fired; fired = true; return first }) {
            await onFirstChange()
        }
        return try await inner.send(request)
    }
}
