import DRCore
import Foundation
import Testing
@testable import GCPProvider

/// `gcp.*` arguments are checked when the runbook loads: each bad constant is named with its
/// file:line:column and what was expected; expressions are left to the action at run time.
@Suite struct GCPActionValidationTests {
    var catalog: ActionCatalog {
        var registry = ActionRegistry.builtIns
        for action in GCPActions.all(source: GCPClientSource { throw GCPProjectMissing() }) { registry.register(action) }
        return registry.catalog
    }

    @Test func badConstantsAreLocatedErrorsAtLoad() throws {
        let yaml = """
        name: bad
        steps:
          - id: promote
            action: gcp.sql.promote-replica
            with: { project: drctl-dr, instance: "orders/../x" }
          - id: scale
            action: gcp.gke.scale-node-pool
            with: { project: drctl-dr, location: us-central1, cluster: c, pool: p, node_count: -1 }
          - id: dns
            action: gcp.dns.set-record
            with: { project: drctl-dr, zone: z, name: db.example.com., type: BOGUS, values: [10.0.0.1] }
          - id: clone
            action: gcp.sql.clone
            with: { project: drctl-dr, instance: orders, point_in_time: yesterday }
          - id: transfer
            action: gcp.storage.transfer-status
            with: { project: drctl-dr, job: "12345" }
        """
        let error = try #require(throws: RunbookValidationError.self) { try RunbookLoader.parse(text: yaml, path: "bad.yaml", catalog: catalog) }
        let text = "\(error)"
        #expect(text.contains("bad.yaml:5:42") && text.contains("expected a Google resource name"), "\(text)")
        #expect(text.contains("bad.yaml:8:88") && text.contains("expected an integer >= 0 for with.node_count"), "\(text)")
        #expect(text.contains("expected one of A, AAAA") && text.contains("for with.type"), "\(text)")
        #expect(text.contains("expected an RFC 3339 time") && text.contains("for with.point_in_time"), "\(text)")
        #expect(text.contains("expected a transfer job name"), "\(text)")
    }

    @Test func expressionsAndGoodConstantsLoad() throws {
        let yaml = """
        name: good
        inputs: { replica: { type: string, default: orders-dr } }
        steps:
          - id: promote
            action: gcp.sql.promote-replica
            with: { project: drctl-dr, instance: "${{ inputs.replica }}" }
          - id: clone
            action: gcp.sql.clone
            with: { project: drctl-dr, instance: orders, point_in_time: "2026-12-05T10:00:00Z" }
        """
        _ = try RunbookLoader.parse(text: yaml, path: "good.yaml", catalog: catalog)
    }
}
