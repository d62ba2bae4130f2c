import Foundation
import Testing

/// Runs that share a lock scope never overlap: the second is refused with exit 7, naming the holder.
@Suite("Lock held")
struct LockHeldTests {
    static let lockHeld: Int32 = 7

    static func waitingRunbook(_ name: String) -> String {
        "name: \(name)\nsteps:\n  - { id: hold, action: wait, with: { duration: 3s } }\n"
    }

    /// Starts `drctl run` in the background and returns once it holds its lease.
    static func startHolding(_ workspace: RunbookWorkspace, _ arguments: [String]) throws -> (DrctlChild, String) {
        let child = try workspace.start(arguments)
        poll("the first run holds its lease") {
            FileManager.default.fileExists(atPath: workspace.statePath) && workspace.query("SELECT count(*) FROM leases") == "1"
        }
        return (child, workspace.query("SELECT run_id FROM leases"))
    }

    @Test func secondRunOfTheSameRunbookIsRefusedWhileTheFirstRunsThenAllowed() throws {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("hold.yaml", Self.waitingRunbook("hold-db"))
        let (first, holderRunId) = try Self.startHolding(workspace, ["run", file, "--yes", "--operator", "carol"])

        let second = try workspace.drctl(["run", file, "--yes"])
        #expect(second.status == Self.lockHeld)
        #expect(second.stderr.contains("hold-db is locked by run \(holderRunId)"), "\(second.stderr)")
        #expect(second.stderr.contains("carol"), "the message should say who holds the lock: \(second.stderr)")
        // The refused run left nothing behind.
        #expect(workspace.query("SELECT count(*) FROM runs") == "1")

        #expect(first.finish().status == 0)
        let third = try workspace.drctl(["run", file, "--yes"])
        #expect(third.status == 0, "\(third.stderr)")
        #expect(workspace.query("SELECT count(*) FROM runs WHERE status = 'succeeded'") == "2")
    }

    @Test func differentRunbooksSharingALockScopeAreRefusedButOtherScopesRun() throws {
        let workspace = try RunbookWorkspace()
        let failover = try workspace.write("failover.yaml", Self.waitingRunbook("failover-orders"))
        let restore = try workspace.write("restore.yaml", Self.waitingRunbook("restore-orders"))
        let report = try workspace.write("report.yaml", "name: report\nsteps:\n  - { id: say, action: check, with: { that: \"${{ true }}\" } }\n")
        let (first, holderRunId) = try Self.startHolding(workspace, ["run", failover, "--yes", "--lock", "orders-db"])

        let sharing = try workspace.drctl(["run", restore, "--yes", "--lock", "orders-db"])
        #expect(sharing.status == Self.lockHeld)
        #expect(sharing.stderr.contains("orders-db is locked by run \(holderRunId)"), "\(sharing.stderr)")
        // Another runbook without --lock has its own scope (its name): no conflict.
        let own = try workspace.drctl(["run", report, "--yes"])
        #expect(own.status == 0, "\(own.stderr)")

        #expect(first.finish().status == 0)
        let after = try workspace.drctl(["run", restore, "--yes", "--lock", "orders-db"])
        #expect(after.status == 0, "\(after.stderr)")
    }

    /// Started at the same moment, exactly one run wins; the losers are refused and leave no run behind.
    @Test func simultaneousStartsLeaveExactlyOneRun() throws {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("hold.yaml", Self.waitingRunbook("race-db"))
        // Create the store first so the racers contend on the lease, not on creating the file.
        #expect(try workspace.drctl(["runs"]).status == 0)
        let racers = try (0..<4).map { _ in try workspace.start(["run", file, "--yes"]) }
        let statuses = racers.map { $0.finish().status }
        #expect(statuses.filter { $0 == 0 }.count == 1, "\(statuses)")
        #expect(statuses.filter { $0 == Self.lockHeld }.count == 3, "\(statuses)")
        #expect(workspace.query("SELECT group_concat(status) FROM runs") == "succeeded")
    }
}
