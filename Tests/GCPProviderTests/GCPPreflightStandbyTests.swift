import DRCore
import Foundation
import Testing
@testable import GCPProvider

extension GCPStandInSuites {
    /// Preflight of a move into a `gcp:` site, against the stand-in: a transfer job whose newest run
    /// failed or lost objects, and standby node pools that are missing or whose autoscaler would
    /// shrink them, are findings (warnings: those steps do not stop a move); healthy ones pass.
    @Suite struct GCPPreflightStandbyTests {
        @Test func transferHealthAndStandbyCapacityAreChecked() async throws {
            let h = try await GCPActionHarness()
            let project = h.bed.project, cluster = h.name("dr")
            try await h.bed.admin("POST", "container/clusters", [
                "project": project, "name": cluster, "location": "us-central1",
                "nodePools": [["name": "capped", "nodeCount": 0, "autoscaling": ["enabled": true, "minNodeCount": 0, "maxNodeCount": 2]],
                              ["name": "workers", "nodeCount": 0]],
            ])
            let healthy = "transferJobs/\(h.name("ok"))", failed = "transferJobs/\(h.name("failed"))", lossy = "transferJobs/\(h.name("lossy"))"
            for job in [healthy, failed, lossy] { try await h.bed.admin("POST", "storagetransfer/jobs", ["project": project, "name": job]) }
            try await h.bed.admin("POST", "storagetransfer/operations", ["job": healthy, "status": "SUCCESS", "started_seconds_ago": 400, "ended_seconds_ago": 300])
            try await h.bed.admin("POST", "storagetransfer/operations", ["job": failed, "status": "SUCCESS", "started_seconds_ago": 4000, "ended_seconds_ago": 3900])
            try await h.bed.admin("POST", "storagetransfer/operations", ["job": failed, "status": "FAILED", "started_seconds_ago": 60, "ended_seconds_ago": 30])
            try await h.bed.admin("POST", "storagetransfer/operations", ["job": lossy, "status": "SUCCESS", "objectsFromSourceFailed": 3,
                                                                         "started_seconds_ago": 100, "ended_seconds_ago": 50])
            let file = NSTemporaryDirectory() + "drplan-preflight-\(h.tag).yaml"
            try """
                name: preflight-\(h.tag)
                sites: { primary: gcp:us-east4, dr: [gcp:us-central1] }
                budgets: { rpo: 1h, rto: 4h }
                gcp:
                  project: \(project)
                  standby:
                    gcp:us-central1:
                      node_pools:
                        - { location: us-central1, cluster: \(cluster), pool: capped, node_count: 3 }
                        - { location: us-central1, cluster: \(cluster), pool: workers, node_count: 3, min: 1, max: 5 }
                        - { location: us-central1, cluster: \(cluster), pool: gone, node_count: 3 }
                  transfers:
                    - { job: \(healthy), site: gcp:us-central1 }
                    - { job: \(failed), site: gcp:us-central1 }
                    - { job: \(lossy), site: gcp:us-central1 }

                """.write(toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let plan = try DRPlanLoader.load(path: file, sections: [GCPPlanSectionKind()])
            let findings = await GCPCloudProvider(environment: h.environment).preflight(Move(kind: .failover, from: "gcp:us-east4", to: "gcp:us-central1"),
                                                                                       plan: plan)
            func check(_ name: String) -> PreflightCheck? { findings.checks.first { $0.name == name } }
            let all = findings.checks.map { "\($0.name): \($0.ok) \($0.detail)" }.joined(separator: "\n")
            #expect(check("transfer \(healthy) into gcp:us-central1")?.ok == true, "\(all)")
            #expect(check("transfer \(failed) into gcp:us-central1")?.detail.contains("newest run is FAILED") == true, "\(all)")
            #expect(check("transfer \(lossy) into gcp:us-central1")?.detail.contains("3 object(s) failed") == true, "\(all)")
            #expect(check("standby node pool \(cluster)/capped in us-central1")?.detail.contains("autoscaling max 2 is under the plan's node_count 3") == true, "\(all)")
            #expect(check("standby node pool \(cluster)/workers in us-central1")?.ok == true, "\(all)")
            #expect(check("standby node pool \(cluster)/gone in us-central1")?.detail.contains("does not exist") == true, "\(all)")
            #expect(findings.checks.filter { !$0.ok }.allSatisfy { !$0.blocking }, "warnings, not blocking: \(all)")
            #expect(check("Google credentials")?.ok == true, "\(all)")
            try await h.bed.expectNoViolations()
        }
    }
}
