import DRCore
import Foundation
import Testing
@testable import GCPProvider

/// A runbook of `gcp.*` actions run by the engine (RunExecutor, SQLite journal) against the
/// stand-in while every call it makes is first throttled twice (429) and then refused twice (503).
@Suite(.serialized) struct GCPRunbookTests {
    struct SilentObserver: RunObserver { func handle(_ event: EngineEvent) {} }

    static let faultedMethods = ["sql.instances.get", "sql.instances.promoteReplica", "sql.operations.get", "sql.operations.list",
                                 "dns.resourceRecordSets.list", "dns.changes.create", "dns.changes.get",
                                 "container.projects.locations.clusters.nodePools.setSize", "container.projects.locations.clusters.nodePools.get",
                                 "container.projects.locations.clusters.get", "container.projects.locations.operations.get"]

    @Test func aFailoverRunbookSucceedsThroughThrottlingAndUnavailabilityOnEveryCall() async throws {
        let h = try await GCPActionHarness()
        let primary = h.name("orders"), replica = h.name("orders-dr"), zone = h.name("zone"), cluster = h.name("standby")
        let domain = "\(h.tag).example.com."
        try await h.seedInstance(["name": primary])
        try await h.seedInstance(["name": replica, "masterInstanceName": primary, "region": "us-central1"])
        try await h.bed.admin("POST", "dns/zones", ["name": zone, "dnsName": domain,
                                                   "records": [["name": "db.\(domain)", "type": "A", "ttl": 60, "rrdatas": ["10.0.0.1"]]]])
        try await h.bed.admin("POST", "container/clusters", ["name": cluster, "location": "us-central1", "nodePools": [["name": "workers", "nodeCount": 0]]])
        let promotesBefore = try await h.bed.calls("sql.instances.promoteReplica")
        try await h.bed.admin("POST", "faults", ["rules": Self.faultedMethods.flatMap { method in
            [["method": method, "fault": "throttle", "times": 2], ["method": method, "fault": "error5xx", "times": 2]]
        }])
        defer { Task { _ = try? await h.bed.admin("DELETE", "faults") } }

        let retry = "retry: { attempts: 8, backoff: 100ms, max_backoff: 1s, on: [transient, throttling] }"
        let yaml = """
        name: gcp-failover
        budgets: { rpo: 1h, rto: 4h }
        steps:
          - id: promote
            action: gcp.sql.promote-replica
            with: { project: \(h.bed.project), instance: \(replica) }
            \(retry)
          - id: cutover
            action: gcp.dns.set-record
            needs: [promote]
            with: { project: \(h.bed.project), zone: \(zone), name: db.\(domain), type: A, ttl: 30, values: ["${{ steps.promote.outputs.primary_ip }}"] }
            \(retry)
          - id: capacity
            action: gcp.gke.scale-node-pool
            with: { project: \(h.bed.project), location: us-central1, cluster: \(cluster), pool: workers, node_count: 2 }
            \(retry)
        """
        var registry = ActionRegistry.builtIns
        for action in GCPActions.all(source: h.source) { registry.register(action) }
        let runbook = try RunbookLoader.parse(text: yaml, path: "gcp-failover.yaml", catalog: registry.catalog)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-gcp-\(h.tag)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStateStore(path: directory.appendingPathComponent("state.db").path)
        let id = "run-\(h.tag)", now = Date()
        try await store.createRun(RunRecord(id: id, runbookName: runbook.name, runbookPath: "gcp-failover.yaml", runbookDigest: runbook.source.digest,
                                            runbookText: "", inputs: [:], status: .running, createdAt: now, updatedAt: now,
                                            startedBy: "tester", host: "test", mode: "run", lockScope: "gcp-\(id)"))
        let executor = RunExecutor(runbook: runbook, run: try await store.run(id)!, journal: try await store.journal(runId: id),
                                   environment: EngineEnvironment(store: store, registry: registry,
                                                                  configuration: EngineConfiguration(concurrency: 4, autoApprove: true, operatorName: "tester"),
                                                                  prompter: NoPrompter(), observer: SilentObserver(),
                                                                  services: ActionServices(clock: GCPActionHarness.FastClock(), messages: { _ in }),
                                                                  interruption: InterruptionFlag()))
        let status = try await executor.execute(lockScope: "gcp-\(id)")
        let rules = try await h.bed.admin("GET", "faults") as? [String: Any]
        try await h.bed.admin("DELETE", "faults")
        let unfired = (rules?["rules"] as? [[String: Any]] ?? []).filter { $0["fired"] as? Int != $0["times"] as? Int }.compactMap { $0["method"] as? String }
        #expect(unfired.isEmpty, "every fault fired on every method: \(unfired)")
        #expect(status == .succeeded)
        let steps = JournalReplay(entries: try await store.journal(runId: id)).steps
        let ip = steps["promote"]?.outputs["primary_ip"]
        #expect(ip?.stringValue != nil && steps["cutover"]?.outputs["values"] == .list([ip!]))
        #expect(steps["capacity"]?.outputs["status"] == .string("RUNNING"))
        let operations = try await h.bed.admin("GET", "sqladmin/operations") as? [[String: Any]] ?? []
        let promotions = operations.filter { $0["targetId"] as? String == replica && $0["operationType"] as? String == "PROMOTE_REPLICA" }
        #expect(promotions.count == 1, "exactly one promotion accepted, whatever was refused before it")
        #expect(try await h.bed.calls("sql.instances.promoteReplica") > promotesBefore)
        #expect(try await h.instance(replica)?["instanceType"] as? String == "CLOUD_SQL_INSTANCE")
        try await h.bed.expectNoViolations()
    }
}
