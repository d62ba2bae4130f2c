import DRCore
import Foundation

/// A run record with every field set, for the state-store suites.
func makeRun(_ id: String, status: RunStatus = .running, createdAt: Date = Date(timeIntervalSince1970: 1_760_000_000.25),
                     inputs: [String: RunValue] = [:]) -> RunRecord {
    RunRecord(id: id, runbookName: "failover", runbookPath: "Runbooks/failover.yaml", runbookDigest: String(repeating: "ab", count: 32),
              runbookText: "name: failover\nsteps: []\n", inputs: inputs, status: status, createdAt: createdAt,
              updatedAt: createdAt.addingTimeInterval(0.5), startedBy: "oncall", host: "bastion-1", mode: "failover",
              lockScope: "failover")
}
