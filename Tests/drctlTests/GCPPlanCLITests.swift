import Foundation
import Testing

/// The GCP reference plan through the real CLI: `validate` reads its `gcp:` section, `plan` shows
/// the failover to gcp:us-central1 without credentials or network, its printed runbook validates
/// and plans the same, and a `gcp:` resource in an AWS site is refused where it is written.
@Suite("GCP plans through the CLI")
struct GCPPlanCLITests {
    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Runbooks/drplan-gcp.yaml").standardized.path

    @Test func theGCPReferencePlanValidatesAndItsFailoverIsShown() throws {
        let workspace = try RunbookWorkspace()
        let validated = try workspace.drctl(["validate", Self.reference])
        #expect(validated.status == 0, "\(validated.stderr)")
        #expect(validated.stdout.contains("ok (DR plan reference-gcp: primary us-east-1, DR us-west-2, gcp:us-central1; aws, gcp)"), "\(validated.stdout)")

        let shown = try workspace.drctl(["plan", "--plan", Self.reference, "--failover-to", "gcp:us-central1"])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("Plan for failover-reference-gcp-to-gcp-us-central1"), "\(shown.stdout)")
        for id in ["scale-orders-dr-workers", "fence-orders", "promote-orders", "dns-app-example-com", "transfer-orders-docs-to-gcs", "report"] {
            #expect(shown.stdout.contains(id), "\(id) missing from \(shown.stdout)")
        }
        let printed = try workspace.drctl(["plan", "--plan", Self.reference, "--failover-to", "gcp:us-central1", "--print-runbook"])
        #expect(printed.status == 0, "\(printed.stderr)")
        let file = try workspace.write("printed.yaml", printed.stdout)
        let replanned = try workspace.drctl(["plan", file])
        #expect(replanned.status == 0, "\(replanned.stderr)")
        #expect(replanned.stdout.components(separatedBy: "\n").dropFirst().joined(separator: "\n")
                == shown.stdout.components(separatedBy: "\n").dropFirst().joined(separator: "\n"))

        let switchover = try workspace.drctl(["plan", "--plan", Self.reference, "--switchover-to", "gcp:us-central1"])
        #expect(switchover.status == 3, "\(switchover.stderr)")
        #expect(switchover.stderr.contains("its primary is outside Google Cloud"), "\(switchover.stderr)")
    }

    @Test func aGCPResourceInAnAWSSiteIsRefusedWhereItIsWritten() throws {
        let workspace = try RunbookWorkspace()
        let text = try String(contentsOfFile: Self.reference, encoding: .utf8)
            .replacingOccurrences(of: "{ site: gcp:us-central1, instance: orders-replica-usc1 }", with: "{ site: us-west-2, instance: orders-replica-usc1 }")
        let plan = try workspace.write("bad.yaml", text)
        let refused = try workspace.drctl(["validate", plan])
        #expect(refused.status == 3, "\(refused.stderr)")
        let line = text.components(separatedBy: "\n").firstIndex { $0.contains("site: us-west-2, instance: orders-replica-usc1") }.map { $0 + 1 } ?? 0
        #expect(refused.stderr.contains("\(plan):\(line):27: found 'us-west-2', expected a region of gcp such as us-central1"), "\(refused.stderr)")
    }
}
