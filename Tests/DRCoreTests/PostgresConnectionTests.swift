@testable import DRCore
import Foundation
import Testing

@Suite("PostgresConnection: parameterised statements, typed results, SQLSTATE errors, no secrets in messages")
struct PostgresConnectionTests {
    @Test("parameters stay data: SQL-looking strings, quotes and NULs of meaning round-trip unchanged and run nothing")
    func injectionLookingParametersStayData() async throws {
        let bed = try PostgresTestBed.require()
        let connection = try await PostgresConnection.connect(bed.primaryURL)
        try await connection.query("CREATE TEMP TABLE victims (name text)")
        try await connection.query("INSERT INTO victims VALUES ('kept')")
        let hostile = ["'; DROP TABLE victims; --", "Robert'); DELETE FROM victims;--", "$1", "\\x00' OR '1'='1", "café \"✓\"\n"]
        for text in hostile {
            let row = try #require(try await connection.query("SELECT $1::text, length($1::text)", [.text(text)]).first)
            #expect(try row.decode(String.self, 0) == text)
            #expect(try row.decode(Int.self, 1) == text.count)
            let matches = try await connection.query("SELECT count(*) FROM victims WHERE name = $1", [.text(text)])
            #expect(try matches.first?.decode(Int.self, 0) == 0)
        }
        #expect(try await connection.query("SELECT name FROM victims").first?.decode(String.self, 0) == "kept")
    }

    @Test("values decode to Int, Double, String, Bool, Date and nil; bound values keep their types")
    func typedResults() async throws {
        let bed = try PostgresTestBed.require()
        let connection = try await PostgresConnection.connect(bed.primaryURL)
        let date = Date(timeIntervalSince1970: 1_760_000_000.123456)
        let rows = try await connection.query(
            """
            SELECT 42::int, 9007199254740993::bigint, 0.1::float8, 'text'::text, true, false, NULL::int,
                   '2025-10-09 08:53:20.5+02'::timestamptz, $1::timestamptz, $2::bigint + 1, $3::float8 * 2, $4::bool,
                   'Infinity'::float8, $5::int IS NULL
            """, [.date(date), .int(41), .double(1.25), .bool(false), .null])
        let row = try #require(rows.first)
        #expect(rows.columns.count == 14)
        #expect(try row.decode(Int.self, 0) == 42)
        #expect(try row.decode(Int64.self, 1) == 9_007_199_254_740_993)
        #expect(try row.decode(Double.self, 2) == 0.1)
        #expect(try row.decode(String.self, 3) == "text")
        #expect(try row.decode(Bool.self, 4) == true)
        #expect(try row.decode(Bool.self, 5) == false)
        #expect(try row.decodeIfPresent(Int.self, 6) == nil)
        #expect(row.isNull(6))
        #expect(try row.decode(Date.self, 7) == Date(timeIntervalSince1970: 1_759_992_800.5))
        #expect(abs(try row.decode(Date.self, 8).timeIntervalSince(date)) < 1e-6)
        #expect(try row.decode(Int.self, 9) == 42)
        #expect(try row.decode(Double.self, 10) == 2.5)
        #expect(try row.decode(Bool.self, 11) == false)
        #expect(try row.decode(Double.self, 12) == .infinity)
        #expect(try row.decode(Bool.self, 13) == true)
        #expect(try row.decode(Int.self, "int4") == 42)

        let nullAsInt = #expect(throws: PostgresError.self) { try row.decode(Int.self, 6) }
        #expect(nullAsInt?.kind == .decoding)
        let textAsInt = #expect(throws: PostgresError.self) { try row.decode(Int.self, 3) }
        #expect(textAsInt?.kind == .decoding)
    }

    @Test("a bad statement fails with its SQLSTATE and message; the connection stays usable")
    func sqlStateOnBadQuery() async throws {
        let bed = try PostgresTestBed.require()
        let connection = try await PostgresConnection.connect(bed.primaryURL)
        let missing = await #expect(throws: PostgresError.self) { try await connection.query("SELECT * FROM no_such_table_here") }
        #expect(missing?.kind == .server)
        #expect(missing?.sqlState == "42P01")
        #expect(missing?.description.contains("no_such_table_here") == true)
        let syntax = await #expect(throws: PostgresError.self) { try await connection.query("SELEC 1") }
        #expect(syntax?.sqlState == "42601")
        let division = await #expect(throws: PostgresError.self) { try await connection.query("SELECT 1 / $1::int", [.int(0)]) }
        #expect(division?.sqlState == "22012")
        #expect(try await connection.query("SELECT 7").first?.decode(Int.self, 0) == 7)
        #expect(connection.isConnected)
    }

    @Test("a transaction commits, and rolls back when its body throws")
    func transactionsCommitAndRollBack() async throws {
        let bed = try PostgresTestBed.require()
        let connection = try await PostgresConnection.connect(bed.primaryURL)
        try await connection.query("CREATE TEMP TABLE t (x int)")
        try await connection.perform { session in
            try session.transaction { try session.query("INSERT INTO t VALUES (1)") }
        }
        await #expect(throws: PostgresError.self) {
            try await connection.perform { session in
                try session.transaction {
                    try session.query("INSERT INTO t VALUES (2)")
                    try session.query("INSERT INTO t VALUES ('not a number')")
                }
            }
        }
        #expect(try await connection.query("SELECT array_agg(x)::text FROM t").first?.decode(String.self, 0) == "{1}")
    }

    @Test("a session terminated by the server is reported as .connectionLost")
    func terminatedSessionIsConnectionLost() async throws {
        let bed = try PostgresTestBed.require()
        let victim = try await PostgresConnection.connect(bed.primaryURL)
        let pid = try #require(try await victim.query("SELECT pg_backend_pid()").first?.decode(Int.self, 0))
        let admin = try await PostgresConnection.connect(bed.primarySuperuser)
        try await admin.query("SELECT pg_terminate_backend($1::int, 5000)", [.int(Int64(pid))])
        let error = await #expect(throws: PostgresError.self) { try await victim.query("SELECT 1") }
        #expect(error?.kind == .connectionLost, "\(String(describing: error))")
        #expect(!victim.isConnected)
        let again = await #expect(throws: PostgresError.self) { try await victim.query("SELECT 1") }
        #expect(again?.kind == .connectionLost)
    }

    @Test("cancelling the waiting task cancels its statement on the server (57014); the connection stays usable")
    func cancellingTheTaskCancelsTheStatement() async throws {
        let bed = try PostgresTestBed.require()
        let connection = try await PostgresConnection.connect(bed.primaryURL)
        let pid = try #require(try await connection.query("SELECT pg_backend_pid()").first?.decode(Int.self, 0))
        let admin = try await PostgresConnection.connect(bed.primarySuperuser)
        let sleeper = Task { try await connection.query("SELECT pg_sleep(30)") }
        try await Self.waitUntilActive(admin, pid: pid, query: "SELECT pg_sleep(30)")
        sleeper.cancel()
        let error = await #expect(throws: PostgresError.self) { try await sleeper.value }
        #expect(error?.sqlState == "57014", "\(String(describing: error))")
        #expect(try await connection.query("SELECT 1").first?.decode(Int.self, 0) == 1)
    }

    @Test("a statement cancelled while it waits for the connection never runs")
    func aStatementCancelledBeforeItStartsDoesNotRun() async throws {
        let bed = try PostgresTestBed.require()
        let connection = try await PostgresConnection.connect(bed.primaryURL)
        let pid = try #require(try await connection.query("SELECT pg_backend_pid()").first?.decode(Int.self, 0))
        let admin = try await PostgresConnection.connect(bed.primarySuperuser)
        let busy = Task { try await connection.query("SELECT pg_sleep(2)") }
        try await Self.waitUntilActive(admin, pid: pid, query: "SELECT pg_sleep(2)")
        let queued = Task { try await connection.query("SELECT set_config('drctl.cancel_test', 'ran', false)") }
        queued.cancel()
        await #expect(throws: CancellationError.self) { try await queued.value }
        _ = try await busy.value
        let setting = try await connection.query("SELECT current_setting('drctl.cancel_test', true)").first?.decodeIfPresent(String.self, 0)
        #expect(setting == nil || setting == "")
    }

    /// Waits (through the engine's waiter) until `pid` runs `query` on the server.
    static func waitUntilActive(_ admin: PostgresConnection, pid: Int, query: String) async throws {
        let waiter = Waiter<Bool>(what: "backend \(pid) to run \(query)", minimumDelay: 0.05, maximumDelay: 0.2) { $0 ? .success : .retry }
        _ = try await waiter.wait(until: Date().addingTimeInterval(30)) {
            try await admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int AND state = 'active' AND query = $2",
                                  [.int(Int64(pid)), .text(query)]).first?.decode(Int.self, 0) == 1
        }
    }

    @Test("calls from many tasks at once are serialized on the connection and all succeed")
    func concurrentCallsAreSerialized() async throws {
        let bed = try PostgresTestBed.require()
        let connection = try await PostgresConnection.connect(bed.primaryURL)
        let sums = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<50 {
                group.addTask { try await connection.query("SELECT $1::int + 1", [.int(Int64(index))]).first!.decode(Int.self, 0) }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(sums.sorted() == Array(1...50))
    }

    // MARK: Failures without the password

    @Test("a wrong password is .authenticationFailed, and neither password appears")
    func wrongPassword() async throws {
        let bed = try PostgresTestBed.require()
        let wrong = "Wr0ngPassw0rd-\(UInt32.random(in: 0...UInt32.max))"
        let url = bed.primaryURL.replacingOccurrences(of: bed.password, with: wrong)
        let error = await #expect(throws: PostgresError.self) { _ = try await PostgresConnection.connect(url, environment: [:]) }
        #expect(error?.kind == .authenticationFailed)
        let text = String(describing: error)
        #expect(text.contains("password authentication failed"), "\(text)")
        #expect(!text.contains(wrong) && !text.contains(bed.password), "\(text)")
        #expect(text.contains("127.0.0.1:\(bed.primaryPort)/drctl"))
    }

    @Test("an unreachable host is .connectionFailed (or .timeout) within the connect timeout, without the password")
    func unreachableHost() async throws {
        let secret = "s3cret-\(UInt32.random(in: 0...UInt32.max))"
        let refused = await #expect(throws: PostgresError.self) {
            _ = try await PostgresConnection.connect("postgres://drctl:\(secret)@127.0.0.1:1/drctl", environment: [:])
        }
        #expect(refused?.kind == .connectionFailed)
        #expect(!String(describing: refused).contains(secret))
        #expect(refused?.isTransient == true)

        // A black-holed address (TEST-NET-1, RFC 5737): only the connect timeout ends the wait.
        let start = ContinuousClock.now
        let silent = await #expect(throws: PostgresError.self) {
            _ = try await PostgresConnection.connect("postgresql://drctl:\(secret)@192.0.2.1:5432/drctl", connectTimeout: 2, environment: [:])
        }
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(silent?.kind == .timeout || silent?.kind == .connectionFailed, "\(String(describing: silent))")
        #expect(!String(describing: silent).contains(secret))
    }

    @Test("malformed URLs and conninfo strings are .invalidTarget without the password", arguments: [
        "postgres://drctl:PASSWORD@127.0.0.1:5432/drctl?sslmode=sometimes",
        "postgres://drctl:PASSWORD@127.0.0.1:5432/drctl?no_such_option=1",
        "postgresql://drctl:PASSWORD@[::1/drctl",
        "host=127.0.0.1 password=PASSWORD dbname",
        "postgres://drctl:PASSWORD@127.0.0.1:notaport/drctl",
    ])
    func malformedTarget(_ template: String) async throws {
        let secret = "pw-\(UInt32.random(in: 0...UInt32.max))"
        let error = await #expect(throws: PostgresError.self) {
            _ = try await PostgresConnection.connect(template.replacingOccurrences(of: "PASSWORD", with: secret), connectTimeout: 2, environment: [:])
        }
        #expect(error?.kind == .invalidTarget || error?.kind == .connectionFailed, "\(String(describing: error))")
        #expect(!String(describing: error).contains(secret), "\(String(describing: error))")
    }

    @Test("PGPASSWORD supplies the password when the URL has none, and is scrubbed from messages")
    func passwordFromEnvironment() async throws {
        let bed = try PostgresTestBed.require()
        let withoutPassword = bed.primaryURL.replacingOccurrences(of: ":\(bed.password)@", with: "@")
        #expect(!withoutPassword.contains(bed.password))
        setenv("PGPASSWORD", bed.password, 1)
        defer { unsetenv("PGPASSWORD") }
        let connection = try await PostgresConnection.connect(withoutPassword)
        #expect(try await connection.query("SELECT current_user").first?.decode(String.self, 0) == "drctl")
    }

    @Test("timestamps format and parse with microseconds and offsets")
    func timestampText() {
        let date = Date(timeIntervalSince1970: 1_760_000_000.000001)
        #expect(PostgresTimestamp.format(date) == "2025-10-09 08:53:20.000001+00")
        #expect(PostgresTimestamp.parse("2025-10-09 08:53:20.000001+00").map { abs($0.timeIntervalSince(date)) < 1e-6 } == true)
        #expect(PostgresTimestamp.parse("2025-10-09 10:53:20+02:00") == Date(timeIntervalSince1970: 1_760_000_000))
        #expect(PostgresTimestamp.parse("2025-10-09 03:23:20-05:30") == Date(timeIntervalSince1970: 1_760_000_000))
        #expect(PostgresTimestamp.parse("2025-10-09") == Date(timeIntervalSince1970: 1_759_968_000))
        #expect(PostgresTimestamp.parse("yesterday") == nil)
    }
}
