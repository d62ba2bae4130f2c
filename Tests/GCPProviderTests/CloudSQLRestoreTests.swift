import DRCore
import Foundation
import Testing
@testable import GCPProvider

extension GCPStandInSuites {
    /// `gcp.sql.restore-backup` against the stand-in: the backup run it names ends up in the target,
    /// and a restore is never made twice by one step (a second restore would drop what was written
    /// after the first) — not on a second attempt, not on a resume after a crash mid-operation.
    @Suite struct CloudSQLRestoreTests {
        static let restore = "sql.instances.restoreBackup"

        func seed(_ h: GCPActionHarness) async throws -> (source: String, target: String, run: String) {
            let source = h.name("orders"), target = h.name("orders-restore")
            try await h.seedInstance(["name": source])
            try await h.seedInstance(["name": target])
            let run = try #require(try await h.bed.admin("POST", "sqladmin/backupRuns", ["instance": source, "age_seconds": 600]) as? [String: Any])
            return (source, target, try #require(run["id"] as? String))
        }

        @Test func restoresTheNamedBackupRunIntoTheTargetAndASecondAttemptCallsNothing() async throws {
            let h = try await GCPActionHarness()
            let (source, target, run) = try await seed(h)
            let before = try await h.bed.calls(Self.restore)
            let args: [String: RunValue] = ["project": .string(h.bed.project), "instance": .string(target), "backup_run_id": .string(run),
                                            "source_instance": .string(source)]
            let started = Date()
            let outputs = try await h.perform("gcp.sql.restore-backup", h.invocation(args, startedAt: started))
            #expect(outputs["state"] == .string("RUNNABLE") && outputs["requested"] == .bool(true) && outputs["backup_run_id"] == .string(run))
            let restored = try await h.instance(target)?["restoredFrom"] as? [String: Any]
            #expect(restored?["instance"] as? String == source && restored?["backupRunId"] as? String == run, "\(String(describing: restored))")
            let again = try await h.perform("gcp.sql.restore-backup", h.invocation(args, attempt: 2, startedAt: started))
            #expect(again["requested"] == .bool(false) && again["operation"] == outputs["operation"])
            #expect(try await h.bed.calls(Self.restore) - before == 1)
            try await h.bed.expectNoViolations()
        }

        /// kill -9 after the call, while the Operation runs: the resumed step waits for it.
        @Test func aResumeAfterACrashMidRestoreWaitsForTheRunningOperationInsteadOfRestoringAgain() async throws {
            let h = try await GCPActionHarness()
            let (source, target, run) = try await seed(h)
            try await h.bed.admin("POST", "config", ["durations": ["sql.restoreBackup": 3]])
            let before = try await h.bed.calls(Self.restore)
            let args: [String: RunValue] = ["project": .string(h.bed.project), "instance": .string(target), "backup_run_id": .string(run),
                                            "source_instance": .string(source)]
            let started = Date()
            let crashed = Task { try await h.perform("gcp.sql.restore-backup", h.invocation(args, startedAt: started)) }
            for _ in 0..<100 where try await h.bed.calls(Self.restore) == before { try await Task.sleep(for: .milliseconds(50)) }
            crashed.cancel()
            _ = await crashed.result
            #expect(try await h.instance(target)?["restoredFrom"] is NSNull, "the restore must still run")
            let outputs = try await h.perform("gcp.sql.restore-backup", h.invocation(args, attempt: 2, isResume: true, startedAt: started))
            #expect(outputs["requested"] == .bool(false) && outputs["operation"]?.stringValue != nil && outputs["state"] == .string("RUNNABLE"))
            #expect((try await h.instance(target)?["restoredFrom"] as? [String: Any])?["backupRunId"] as? String == run)
            #expect(try await h.bed.calls(Self.restore) - before == 1)
            try await h.bed.expectNoViolations()
        }

        @Test func anUnknownBackupRunOrAReplicaTargetIsRefusedPermanently() async throws {
            let h = try await GCPActionHarness()
            let (source, target, _) = try await seed(h)
            let unknown = await #expect(throws: ActionError.self) {
                try await h.perform("gcp.sql.restore-backup", ["project": .string(h.bed.project), "instance": .string(target),
                                                               "backup_run_id": .string("42"), "source_instance": .string(source)])
            }
            #expect(unknown?.kind == .permanent && unknown?.message.contains("backupRunDoesNotExist") == true, "\(String(describing: unknown))")
            let replica = h.name("orders-replica")
            try await h.seedInstance(["name": replica, "masterInstanceName": source])
            let refused = await #expect(throws: ActionError.self) {
                try await h.perform("gcp.sql.restore-backup", ["project": .string(h.bed.project), "instance": .string(replica),
                                                               "backup_run_id": .string("42"), "source_instance": .string(source)])
            }
            #expect(refused?.kind == .permanent && refused?.message.contains("read replica") == true)
            try await h.bed.expectNoViolations()
        }
    }
}
