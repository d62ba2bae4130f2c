@testable import DRCore
import Foundation
import Testing

/// The self-managed PostgreSQL actions against real servers. Pausing replay, promotion and fencing
/// change what a standby shows, so they run on private primary + standby pairs (postgres.sh in a
/// temp dir), stopped and deleted afterwards: the shared bed is never paused, promoted or fenced,
/// and tests running in parallel that read its standby never see it lag.
@Suite("PostgreSQL actions: replication lag, promote, fence, timeline", .serialized)
struct PostgresActionTests {
    @Test("lag is measured in bytes and seconds while replay is paused, and is back to zero after it resumes")
    func lagWhileReplayIsPaused() async throws {
        try await PrivatePostgresPair.with { pair in
            let bed = pair.bed
            let action = PostgresReplicationLagAction()
            let arguments: [String: RunValue] = ["url": .string(bed.primaryURL), "standby_url": .string(bed.standbyURL)]
            let primary = try await PostgresConnection.connect(bed.primaryURL)
            let standby = try await PostgresConnection.connect(bed.standbyURL)
            let table = "lag_probe_\(UInt32.random(in: 0...UInt32.max))"
            try await primary.query("CREATE TABLE \(table) (at timestamptz DEFAULT now())")
            try await waitForLag(action, arguments) { $0 == 0 }

            try await standby.query("SELECT pg_wal_replay_pause()")
            try await primary.query("INSERT INTO \(table) DEFAULT VALUES")
            try await Task.sleep(for: .milliseconds(1500))
            try await primary.query("INSERT INTO \(table) DEFAULT VALUES")
            let paused = try await action.verify(invocation(arguments), acted: [:])
            let bytes = try #require(paused["lag_bytes"]?.intValue)
            let seconds = try #require(paused["lag_seconds"]?.secondsValue)
            #expect(bytes > 0)
            // The newest replayed commit is the CREATE TABLE's, made before the pause: ≥ 1.5 s old.
            #expect(seconds >= 1.4 && seconds < 30, "lag_seconds \(seconds)")
            #expect(paused["replay_paused"] == .bool(true))

            let limited = arguments.merging(["max_lag": .duration(1)]) { $1 }
            let error = await #expect(throws: ActionError.self) { try await action.verify(invocation(limited), acted: [:]) }
            #expect(error?.message.contains("above max_lag") == true)

            try await standby.query("SELECT pg_wal_replay_resume()")
            let caughtUp = try await waitForLag(action, arguments) { $0 == 0 }
            #expect(caughtUp["lag_seconds"]?.secondsValue == 0)
            #expect(caughtUp["replay_paused"] == .bool(false))
            await primary.close()
            await standby.close()
        }
    }

    @Test("url_env and standby_url_env name variables holding the URLs; a missing variable is a permanent error")
    func targetsFromEnvironmentVariables() throws {
        let environment = ["PRIMARY": "postgres://drctl:secret@db-1:5432/drctl", "STANDBY": "postgres://drctl:secret@db-2:5432/drctl"]
        let arguments: [String: RunValue] = ["url_env": .string("PRIMARY"), "standby_url_env": .string("STANDBY")]
        let primary = try PostgresActionTarget.resolve("url", in: arguments, environment: environment)
        let standby = try PostgresActionTarget.resolve("standby_url", in: arguments, environment: environment)
        #expect(primary.connectionString == environment["PRIMARY"])
        #expect(standby.connectionString == environment["STANDBY"])
        #expect(!primary.display.contains("secret"), "\(primary.display)")
        let missing = #expect(throws: ActionError.self) { try PostgresActionTarget.resolve("url", in: arguments, environment: [:]) }
        #expect(missing?.message.contains("PRIMARY") == true, "\(String(describing: missing))")
    }

    @Test("promote a standby (resumable), fence the old primary so its writes fail, and refuse a failback that forked")
    func promoteFenceAndTimeline() async throws {
        try await PrivatePostgresPair.with { pair in
            let bed = pair.bed
            let newPrimary: [String: RunValue] = ["url": .string(bed.standbyURL)]
            let oldPrimary: [String: RunValue] = ["url": .string(bed.primaryURL)]

            // Promote: not yet promoted, so observe finds nothing to skip.
            let promote = PostgresPromoteAction()
            #expect(try await promote.observe(invocation(newPrimary)) == nil)
            let acted = try await promote.act(invocation(newPrimary))
            let promoted = try await promote.verify(invocation(newPrimary), acted: acted)
            #expect(promoted["promoted"] == .bool(true))
            #expect(promoted["timeline_id"] == .int(2))
            #expect(promoted["recovery_end_lsn"]?.stringValue != nil)
            // Resumed after a crash: observe sees the promotion and nothing is done twice.
            #expect(try await promote.observe(invocation(newPrimary))?["timeline_id"] == .int(2))

            // Split brain until fenced: the old primary still takes writes (and forks history).
            let early = try await PostgresConnection.connect(bed.primaryURL)
            try await early.query("CREATE TABLE written_after_failover (x int)")
            try await early.query("INSERT INTO written_after_failover VALUES (1)")

            let fence = PostgresFenceAction()
            #expect(try await fence.observe(invocation(oldPrimary)) == nil)
            let fenceActed = try await fence.act(invocation(oldPrimary))
            #expect((fenceActed["terminated_sessions"]?.intValue ?? 0) >= 1)
            let fenced = try await fence.verify(invocation(oldPrimary), acted: fenceActed)
            #expect(fenced["confirmed"] == .bool(true))
            // The session open before the fence was terminated; a new one cannot write.
            let cut = await #expect(throws: PostgresError.self) { try await early.query("INSERT INTO written_after_failover VALUES (2)") }
            #expect(cut?.kind == .connectionLost)
            let late = try await PostgresConnection.connect(bed.primaryURL)
            let refused = await #expect(throws: PostgresError.self) { try await late.query("INSERT INTO written_after_failover VALUES (3)") }
            #expect(refused?.sqlState == "25006", "\(String(describing: refused))")
            #expect(refused?.isReadOnlyRefusal == true)
            // Fencing again is observed as done.
            #expect(try await fence.observe(invocation(oldPrimary))?["confirmed"] == .bool(true))

            // Timelines: the new primary is on 2, the old one on 1 and past the fork point.
            let timeline = PostgresTimelineAction()
            let newTimeline = try await timeline.verify(invocation(newPrimary), acted: [:])
            #expect(newTimeline["timeline_id"] == .int(2))
            #expect(newTimeline["in_recovery"] == .bool(false))
            let oldTimeline = try await timeline.verify(invocation(oldPrimary), acted: [:])
            #expect(oldTimeline["timeline_id"] == .int(1))
            let failback = await #expect(throws: ActionError.self) {
                try await timeline.verify(invocation(oldPrimary.merging(["new_primary_url": .string(bed.standbyURL)]) { $1 }), acted: [:])
            }
            #expect(failback?.kind == .permanent)
            #expect(failback?.message.contains("past the fork point") == true, "\(String(describing: failback))")

            // The other method on the new primary: new connections refused, sessions ended.
            let terminate: [String: RunValue] = ["url": .string(bed.standbyURL), "method": .string("terminate")]
            let terminated = try await fence.verify(invocation(terminate), acted: try await fence.act(invocation(terminate)))
            #expect(terminated["confirmed"] == .bool(true))
            #expect(terminated["method"] == .string("terminate"))
        }
    }

    @Test("fencing an unreachable server succeeds with confirmed: false")
    func fencingUnreachableIsUnconfirmed() async throws {
        let fence = PostgresFenceAction()
        let arguments: [String: RunValue] = ["url": .string("postgres://drctl:secret-pw@127.0.0.1:1/drctl")]
        #expect(try await fence.observe(invocation(arguments)) == nil)
        let acted = try await fence.act(invocation(arguments))
        let outputs = try await fence.verify(invocation(arguments), acted: acted)
        #expect(outputs["confirmed"] == .bool(false))
        #expect(outputs["reachable"] == .bool(false))
        #expect(!"\(acted)".contains("secret-pw"))
    }

    @Test("url_env naming an unset variable is a permanent error; describe never shows a password")
    func targetResolution() throws {
        let error = #expect(throws: ActionError.self) {
            _ = try PostgresActionTarget.resolve(in: ["url_env": .string("DRCTL_NO_SUCH_VARIABLE_\(UInt32.random(in: 0...9999))")])
        }
        #expect(error?.kind == .permanent)
        let text = PostgresPromoteAction().describe(["url": .string("postgres://drctl:hunter2hunter2@db.internal:5432/app")])
        #expect(!text.contains("hunter2"))
        #expect(text.contains("db.internal:5432/app"))
        #expect(PostgresFenceAction().describe(["url_env": .string("OLD_PRIMARY_URL")]).contains("$OLD_PRIMARY_URL"))
    }

    // MARK: Failback check (pure)

    @Test("the failback check refuses forked or newer history and allows an old primary that stopped at the fork")
    func failbackCheck() {
        func position(_ timeline: UInt32, _ lsn: String, end: String? = nil) -> TimelinePosition {
            TimelinePosition(timeline: timeline, checkpointTimeline: timeline, inRecovery: false, lsn: LSN(lsn)!, recoveryEndLSN: end.flatMap(LSN.init))
        }
        let promoted = position(2, "0/9000000", end: "0/5000100")
        #expect(TimelineFork.check(oldPrimary: position(1, "0/5000100"), newPrimary: promoted) == .safe("the old primary (0/5000100) stopped at or before the fork point 0/5000100 of timeline 2"))
        guard case .forked(let why) = TimelineFork.check(oldPrimary: position(1, "0/5000200"), newPrimary: promoted) else {
            Issue.record("a fork was not detected"); return
        }
        #expect(why.contains("256 bytes"))
        if case .safe = TimelineFork.check(oldPrimary: position(3, "0/1"), newPrimary: promoted) { Issue.record("newer timeline allowed") }
        if case .safe = TimelineFork.check(oldPrimary: position(1, "0/1"), newPrimary: position(3, "0/9", end: "0/5")) { Issue.record("skipped timeline allowed") }
        if case .forked = TimelineFork.check(oldPrimary: position(2, "0/8000000"), newPrimary: promoted) { Issue.record("same history refused") }
        if case .safe = TimelineFork.check(oldPrimary: position(2, "0/A000000"), newPrimary: promoted) { Issue.record("ahead on one timeline allowed") }
        #expect(LSN("16/B374D848")?.value == 0x16_B374_D848)
        #expect(LSN("16/B374D848")?.description == "16/B374D848")
        #expect(LSN("nonsense") == nil)
    }

    // MARK: Helpers

    private func invocation(_ arguments: [String: RunValue], timeout: Double = 60) -> ActionInvocation {
        let now = Date()
        return ActionInvocation(runId: "run-test", stepId: "step", attempt: 1, arguments: arguments, firstStartedAt: now,
                                deadline: now.addingTimeInterval(timeout), isResume: false, services: ActionServices(messages: { _ in }))
    }

    /// Polls the lag action (through the engine's Waiter) until `bytes` satisfies `condition`.
    @discardableResult
    private func waitForLag(_ action: PostgresReplicationLagAction, _ arguments: [String: RunValue],
                            _ condition: @escaping @Sendable (Int) -> Bool) async throws -> [String: RunValue] {
        let waiter = Waiter<[String: RunValue]>(what: "replication lag", minimumDelay: 0.1, maximumDelay: 0.5) { outputs in
            condition(outputs["lag_bytes"]?.intValue ?? -1) ? .success : .retry
        }
        return try await waiter.wait(until: Date().addingTimeInterval(30)) { try await action.verify(invocation(arguments), acted: [:]) }
    }
}
