@testable import DRCore
import Foundation
import Testing

/// The data checks and the heartbeat against real servers. Tables live in fresh schemas on the
/// shared bed's primary; the RPO test pauses replay on a private primary + standby pair, so it
/// neither disturbs nor is disturbed by the lag test that pauses the shared standby.
@Suite("PostgreSQL data checks and heartbeat RPO", .serialized)
struct PostgresChecksTests {
    // MARK: Row counts

    @Test("check-rows passes inside min/max and within tolerance of expected, and fails outside them saying why")
    func rowCountWithinRangeAndTolerance() async throws {
        let (url, _) = try await Self.table("CREATE TABLE items (id int PRIMARY KEY)", "INSERT INTO items SELECT generate_series(1, 10)")
        let action = PostgresCheckRowsAction()
        let base: [String: RunValue] = ["url": .string(url), "sql": .string("SELECT count(*) FROM items")]

        let passed = try await action.verify(invocation(base.merging(["min": .int(5), "max": .int(20)]) { $1 }), acted: [:])
        #expect(passed["passed"] == .bool(true))
        #expect(passed["count"] == .int(10))
        #expect(passed["detail"]?.stringValue?.contains("within") == true)

        let tolerated = try await action.verify(invocation(base.merging(["expected": .int(11), "tolerance_percent": .int(10)]) { $1 }), acted: [:])
        #expect(tolerated["passed"] == .bool(true))

        let tooMany = await #expect(throws: ActionError.self) {
            try await action.verify(invocation(base.merging(["max": .int(9)]) { $1 }), acted: [:])
        }
        #expect(tooMany?.kind == .permanent)
        #expect(tooMany?.message.contains("count 10 is above max 9") == true, "\(String(describing: tooMany))")

        let tooFew = await #expect(throws: ActionError.self) {
            try await action.verify(invocation(base.merging(["min": .int(11)]) { $1 }), acted: [:])
        }
        #expect(tooFew?.message.contains("below min 11") == true)

        let offExpected = await #expect(throws: ActionError.self) {
            try await action.verify(invocation(base.merging(["expected": .int(12), "tolerance_percent": .double(5)]) { $1 }), acted: [:])
        }
        #expect(offExpected?.message.contains("differs from expected 12 by more than 5%") == true, "\(String(describing: offExpected))")

        // Not enforced: the result is reported instead of failing the step.
        let reported = try await action.verify(invocation(base.merging(["max": .int(9), "enforce": .bool(false)]) { $1 }), acted: [:])
        #expect(reported["passed"] == .bool(false))

        let noBounds = await #expect(throws: ActionError.self) { try await action.verify(invocation(base), acted: [:]) }
        #expect(noBounds?.message.contains("needs min, max or expected") == true)
    }

    // MARK: Freshness

    @Test("check-freshness fails when the newest timestamp is older than max_age, and passes after a fresh write")
    func freshnessStaleThenFresh() async throws {
        let (url, _) = try await Self.table("CREATE TABLE orders (id serial PRIMARY KEY, updated_at timestamptz NOT NULL)",
                                            "INSERT INTO orders (updated_at) VALUES (now() - interval '1 hour')")
        let action = PostgresCheckFreshnessAction()
        let arguments: [String: RunValue] = ["url": .string(url), "table": .string("orders"), "column": .string("updated_at"),
                                             "max_age": .duration(600)]
        let stale = await #expect(throws: ActionError.self) { try await action.verify(invocation(arguments), acted: [:]) }
        #expect(stale?.kind == .permanent)
        // "1h old", or "1h 2s old" on a busy machine where the check ran seconds after the insert.
        #expect(stale?.message.contains("1h") == true && stale?.message.contains("old, above max_age 10m") == true, "\(String(describing: stale))")

        let connection = try await PostgresConnection.connect(url)
        try await connection.query("INSERT INTO orders (updated_at) VALUES (now())")
        await connection.close()
        let fresh = try await action.verify(invocation(arguments), acted: [:])
        #expect(fresh["passed"] == .bool(true))
        let age = try #require(fresh["age_seconds"]?.secondsValue)
        #expect(age >= 0 && age < 60, "age_seconds \(age)")
        let newest = try #require(fresh["newest"]?.stringValue)
        #expect(ISO8601DateFormatter.withFractions.date(from: newest) != nil, "newest \(newest)")
    }

    @Test("check-freshness fails on an empty table")
    func freshnessEmptyTable() async throws {
        let (url, _) = try await Self.table("CREATE TABLE orders (updated_at timestamptz)")
        let error = await #expect(throws: ActionError.self) {
            try await PostgresCheckFreshnessAction().verify(invocation(["url": .string(url), "table": .string("orders"),
                                                                        "column": .string("updated_at"), "max_age": .string("5m")]), acted: [:])
        }
        #expect(error?.message.contains("no values") == true)
    }

    @Test("an injection-looking table or column name is refused before any SQL runs")
    func injectionLookingNamesAreRefused() async throws {
        let (url, schema) = try await Self.table("CREATE TABLE victim (updated_at timestamptz)", "INSERT INTO victim VALUES (now())")
        for (table, column) in [("victim; DROP TABLE victim; --", "updated_at"), ("victim", "updated_at) FROM victim; DROP TABLE victim; --"),
                                ("\"victim\"", "updated_at"), ("a.b.c", "updated_at"), ("", "updated_at")] {
            let error = await #expect(throws: ActionError.self) {
                try await PostgresCheckFreshnessAction().verify(invocation(["url": .string(url), "table": .string(table), "column": .string(column),
                                                                            "max_age": .duration(60)]), acted: [:])
            }
            #expect(error?.kind == .permanent)
            #expect(error?.message.contains("refused without running any SQL") == true, "\(String(describing: error))")
        }
        let checksum = await #expect(throws: ActionError.self) {
            try await PostgresCheckChecksumAction().verify(invocation(["url": .string(url), "table": .string("victim"),
                                                                       "key_column": .string("1; DROP TABLE victim")]), acted: [:])
        }
        #expect(checksum?.message.contains("refused") == true)
        // The table is still there.
        let connection = try await PostgresConnection.connect(url)
        let count = try await connection.query("SELECT count(*) FROM \(schema).victim").first!.decode(Int.self, 0)
        await connection.close()
        #expect(count == 1)
    }

    @Test("identifiers are quoted like quote_ident and only plain names are accepted")
    func identifierQuoting() throws {
        #expect(try SQLIdentifier("orders").quoted == "\"orders\"")
        #expect(try SQLIdentifier("sales.Orders_2$").quoted == "\"sales\".\"Orders_2$\"")
        for bad in ["", "1orders", "a b", "x\"y", "a.b.c", "a..b", "naïve", String(repeating: "a", count: 64), "t;--"] {
            #expect(throws: ActionError.self, "\(bad)") { try SQLIdentifier(bad) }
        }
        #expect(throws: ActionError.self) { try SQLIdentifier("s.t", what: "column", allowQualified: false) }
    }

    // MARK: Checksums

    @Test("check-checksum matches between the primary and its standby, and fails when a table diverged")
    func checksumMatchesReplicaAndCatchesDivergence() async throws {
        let bed = try PostgresTestBed.require()
        let fill = "INSERT INTO accounts SELECT i, 'holder ' || i, i * 10.5, timestamptz '2026-01-01' + i * interval '1 minute' FROM generate_series(1, 50) i"
        let create = "CREATE TABLE accounts (id int PRIMARY KEY, holder text, balance numeric, opened timestamptz)"
        let (url, schema) = try await Self.table(create, fill)
        let (other, _) = try await Self.table(create, fill, "UPDATE accounts SET balance = balance + 0.01 WHERE id = 7")
        let action = PostgresCheckChecksumAction()
        let standbyURL = "\(bed.standbyURL)?options=-csearch_path%3D\(schema)"

        // The standby replays the table shortly: the same sample, the same checksum.
        let arguments: [String: RunValue] = ["url": .string(url), "compare_url": .string(standbyURL), "table": .string("accounts"),
                                             "key_column": .string("id"), "sample": .int(40)]
        let waiter = Waiter<[String: RunValue]?>(what: "the standby's checksum", minimumDelay: 0.1, maximumDelay: 0.5) { $0 == nil ? .retry : .success }
        let matched = try #require(try await waiter.wait(until: Date().addingTimeInterval(30)) {
            try? await action.verify(invocation(arguments), acted: [:])
        })
        #expect(matched["matches"] == .bool(true))
        #expect(matched["rows"] == .int(40))
        #expect(matched["checksum"]?.stringValue?.count == 32)
        #expect(matched["checksum"] == matched["compare_checksum"])

        // Alone, it just reports the checksum.
        let alone = try await action.verify(invocation(["url": .string(url), "table": .string("accounts"), "key_column": .string("id"), "sample": .int(40)]), acted: [:])
        #expect(alone["checksum"] == matched["checksum"])
        #expect(alone["matches"] == nil)

        // Row 7 differs by a cent in the other schema.
        let diverged = arguments.merging(["compare_url": .string(other)]) { $1 }
        let error = await #expect(throws: ActionError.self) { try await action.verify(invocation(diverged), acted: [:]) }
        #expect(error?.kind == .permanent)
        #expect(error?.message.contains("sample differs") == true, "\(String(describing: error))")
        #expect(error?.message.contains(bed.password) == false)
        // Outside the sample (first 5 rows by id), the divergence is not seen.
        let outside = try await action.verify(invocation(diverged.merging(["sample": .int(5)]) { $1 }), acted: [:])
        #expect(outside["matches"] == .bool(true))
    }

    // MARK: Custom SQL

    @Test("check-sql passes on one true row and fails on false, NULL, a non-boolean, several rows, or a write")
    func customSQL() async throws {
        let (url, _) = try await Self.table("CREATE TABLE t (x int)")
        let action = PostgresCheckSQLAction()
        func check(_ sql: String) async throws -> [String: RunValue] {
            try await action.verify(invocation(["url": .string(url), "sql": .string(sql)]), acted: [:])
        }
        let passed = try await check("SELECT count(*) = 0 FROM t")
        #expect(passed["value"] == .bool(true))
        #expect(passed["passed"] == .bool(true))

        let failures: [(String, String)] = [
            ("SELECT false", "returned false"),
            ("SELECT NULL::boolean", "returned NULL"),
            ("SELECT 1", "one boolean column"),
            ("SELECT true FROM generate_series(1, 2)", "exactly one row"),
            // Checks run read-only: a data-modifying query is refused by the server (SQLSTATE 25006).
            ("WITH w AS (INSERT INTO t VALUES (1) RETURNING 1) SELECT true", "25006"),
        ]
        for (sql, why) in failures {
            let error = await #expect(throws: ActionError.self, "\(sql)") { try await check(sql) }
            #expect(error?.kind == .permanent)
            #expect(error?.message.contains(why) == true, "\(sql): \(String(describing: error))")
        }
    }

    @Test("an unreachable database is a transient failure without the password")
    func unreachableIsTransient() async throws {
        let url = "postgres://drctl:secret-pw-123@127.0.0.1:1/drctl"
        let error = await #expect(throws: ActionError.self) {
            try await PostgresCheckSQLAction().verify(invocation(["url": .string(url), "sql": .string("SELECT true")]), acted: [:])
        }
        #expect(error?.kind == .transient)
        #expect(error?.message.contains("secret-pw-123") == false)
    }

    // MARK: Heartbeat

    @Test("measured RPO from heartbeats is within 1 s of the time replay was paused, and back near zero after it resumes")
    func heartbeatRPOWhileReplayIsPaused() async throws {
        try await PrivatePostgresPair.with { pair in
            let bed = pair.bed
            let source = "rpo-\(UInt32.random(in: 0...UInt32.max))"
            let action = PostgresHeartbeatRPOAction()
            let arguments: [String: RunValue] = ["primary_url": .string(bed.primaryURL), "copy_url": .string(bed.standbyURL), "source": .string(source)]
            let writer = HeartbeatWriter(url: bed.primaryURL, interval: 0.2, source: source).start()

            // Caught up: the standby has the writer's beats, less than a second behind.
            let caughtUp = try await waitForRPO(action, arguments) { $0 < 1 }
            #expect(caughtUp["copy_beat"]?.stringValue != nil)

            let standby = try await PostgresConnection.connect(bed.standbyURL)
            let pausing = ContinuousClock.now
            try await standby.query("SELECT pg_wal_replay_pause()")
            let paused: [String: RunValue]
            let limited: ActionError?
            // How long replay had been paused when the action measured: at least the 3 s slept,
            // more when a busy machine runs this task late (the measurement is against real time).
            let pausedFor: (atLeast: Double, atMost: Double)
            do {
                try await Task.sleep(for: .seconds(3))
                let measuring = ContinuousClock.now
                paused = try await action.verify(invocation(arguments), acted: [:])
                pausedFor = (seconds(measuring - pausing), seconds(ContinuousClock.now - pausing))
                limited = await #expect(throws: ActionError.self) {
                    try await action.verify(invocation(arguments.merging(["max_rpo": .duration(1)]) { $1 }), acted: [:])
                }
            } catch {
                try await standby.query("SELECT pg_wal_replay_resume()")
                throw error
            }
            try await standby.query("SELECT pg_wal_replay_resume()")
            let measured = try #require(paused["measured_rpo_seconds"]?.secondsValue)
            #expect(measured >= pausedFor.atLeast - 1 && measured <= pausedFor.atMost + 1,
                    "measured RPO \(measured) s for \(pausedFor.atLeast)–\(pausedFor.atMost) s of paused replay")
            #expect((paused["beats_missing"]?.intValue ?? 0) >= 10, "\(paused)")
            #expect(limited?.kind == .permanent)
            #expect(limited?.message.contains("above max_rpo 1s") == true, "\(String(describing: limited))")

            let resumed = try await waitForRPO(action, arguments) { $0 < 1 }
            #expect((resumed["measured_rpo_seconds"]?.secondsValue ?? 99) < 1)
            let summary = try await writer.stop()
            #expect(summary.beats >= 15, "\(summary)")
            #expect(summary.failedBeats == 0, "\(summary)")
            await standby.close()
        }
    }

    @Test("the writer stops on cancellation and keeps its cadence; a copy without the heartbeat table is a clear failure")
    func writerCadenceAndMissingTable() async throws {
        let (url, _) = try await Self.table("SELECT 1")
        let source = "cadence-\(UInt32.random(in: 0...UInt32.max))"
        let started = Date()
        let summary = try await HeartbeatWriter(url: url, interval: 0.1, source: source).run(for: 1)
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 0.9 && elapsed < 10, "ran \(elapsed) s")
        #expect(summary.beats >= 5 && summary.beats <= 11, "\(summary)")   // a busy machine may delay a few beats
        #expect(summary.lastBeat?.seq == Int64(summary.beats))

        let running = HeartbeatWriter(url: url, interval: 0.1, source: source).start()
        try await Task.sleep(for: .milliseconds(300))
        let stopped = try await running.stop()
        #expect(stopped.beats >= 1)
        #expect(stopped.lastBeat.map { $0.seq > Int64(summary.beats) } == true, "the counter continues: \(stopped)")

        let (empty, _) = try await Self.table("SELECT 1")
        let error = await #expect(throws: ActionError.self) {
            try await PostgresHeartbeatRPOAction().verify(invocation(["primary_url": .string(url), "copy_url": .string(empty)]), acted: [:])
        }
        #expect(error?.kind == .permanent)
        #expect(error?.message.contains("no drctl_heartbeat table") == true, "\(String(describing: error))")

        // A first beat that cannot be written is an error, not a silent writer.
        await #expect(throws: (any Error).self) {
            try await HeartbeatWriter(url: "postgres://drctl:x@127.0.0.1:1/drctl", interval: 0.1).run(for: 1)
        }
    }

    @Test("the measured RPO is the primary's newest beat minus the copy's, never negative")
    func rpoArithmetic() {
        let base = Date(timeIntervalSince1970: 1_800_000_000)
        let rpo = HeartbeatRPO(primary: Heartbeat(source: "a", beatAt: base.addingTimeInterval(3.5), seq: 40),
                               copy: Heartbeat(source: "a", beatAt: base, seq: 5))
        #expect(rpo.seconds == 3.5)
        #expect(rpo.beatsMissing == 35)
        #expect(HeartbeatRPO(primary: Heartbeat(source: "a", beatAt: base, seq: 1), copy: Heartbeat(source: "b", beatAt: base.addingTimeInterval(2), seq: 9)).seconds == 0)
    }

    // MARK: Helpers

    /// A fresh schema on the shared primary with `statements` run in it; its URL (search_path set).
    static func table(_ statements: String...) async throws -> (url: String, schema: String) {
        let bed = try PostgresTestBed.require()
        let (url, schema) = try await bed.freshSchemaURL("checks")
        let connection = try await PostgresConnection.connect(url)
        for statement in statements { try await connection.query(statement) }
        await connection.close()
        return (url, schema)
    }

    private func invocation(_ arguments: [String: RunValue], timeout: Double = 60) -> ActionInvocation {
        let now = Date()
        return ActionInvocation(runId: "run-test", stepId: "step", attempt: 1, arguments: arguments, firstStartedAt: now,
                                deadline: now.addingTimeInterval(timeout), isResume: false, services: ActionServices(messages: { _ in }))
    }

    /// Polls the RPO action (through the engine's Waiter) until the measured RPO satisfies `condition`.
    @discardableResult
    private func waitForRPO(_ action: PostgresHeartbeatRPOAction, _ arguments: [String: RunValue],
                            _ condition: @escaping @Sendable (Double) -> Bool) async throws -> [String: RunValue] {
        let waiter = Waiter<[String: RunValue]?>(what: "measured RPO", minimumDelay: 0.2, maximumDelay: 0.5) { outputs in
            outputs?["measured_rpo_seconds"]?.secondsValue.map(condition) == true ? .success : .retry
        }
        // Before the first beat replays, the copy has no table or no row yet: retry.
        return try #require(try await waiter.wait(until: Date().addingTimeInterval(30)) {
            try? await action.verify(invocation(arguments), acted: [:])
        })
    }
}

extension ISO8601DateFormatter {
    static var withFractions: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}

private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
