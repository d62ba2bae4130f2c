import DRCore
import Foundation
@testable import GCPProvider
import Testing

/// GCP's preflight without Google credentials: the move is blocked before anything changes, and
/// the replica's lag — unreadable — is an unknown loss for the RPO gate, never a loss of 0.
@Suite("GCP preflight")
struct GCPPreflightTests {
    @Test func withoutCredentialsTheMoveIsBlockedAndTheLossIsUnknownNotZero() async throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Runbooks/drplan-gcp.yaml").standardized.path
        let plan = try DRPlanLoader.load(path: path, sections: PlanSections.all)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("gcp-preflight-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let provider = GCPCloudProvider(environment: ["HOME": home.path, "GCE_METADATA_HOST": "127.0.0.1:1"])
        let findings = await provider.preflight(Move(kind: .failover, from: "us-east-1", to: "gcp:us-central1"), plan: plan)
        let credentials = findings.checks.first { $0.name == "Google credentials" }
        #expect(credentials?.ok == false && credentials?.blocking == true, "\(findings.checks)")
        #expect(findings.losses.isEmpty, "an unreadable lag must not count as a loss of \(findings.losses)")
        #expect(findings.unknownLossReasons == ["orders: the replica's lag is not readable"])
        let lag = findings.checks.first { $0.name.hasPrefix("database orders replica lag (orders-replica-usc1 in gcp:us-central1)") }
        #expect(lag?.ok == false && lag?.detail.hasPrefix("unknown:") == true, "\(findings.checks)")
        // A move that has nothing to do in Google Cloud asks nothing of it.
        #expect(await provider.preflight(Move(kind: .failover, from: "us-east-1", to: "us-west-2"), plan: plan).checks.isEmpty)
    }
}
