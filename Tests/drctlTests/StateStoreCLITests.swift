import DRCore
import Foundation
import Testing

/// `drctl` and its state store as an operator meets them: a conninfo given to `--state`, reading
/// from a hot standby, the store restarting or cut off in the middle of a step, the store file
/// replaced under a run, and the journal as JSON.
@Suite("drctl and its state store: conninfo, read-only replicas, outages, the journal as JSON")
struct StateStoreCLITests {
    static let runbook = """
    name: store-check
    steps:
      - { id: hello, action: notify, with: { message: hello } }
    """

    /// A runbook whose one step runs `command`, then one that needs it.
    static func runbook(running command: String) -> String {
        """
        name: store-outage
        steps:
          - { id: disturb, action: exec, with: { command: "\(command)" } }
          - { id: after, action: notify, needs: [disturb], with: { message: after } }
        """
    }

    @Test("a libpq conninfo given to --state is PostgreSQL: the run is recorded there, no file is created, the password never shows")
    func conninfoIsPostgres() async throws {
        let bed = try PostgresBed.require()
        let schema = try await bed.freshSchema("conninfo")
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("store-check.yaml", Self.runbook)
        let conninfo = "host=127.0.0.1 port=\(bed.primaryPort) dbname=drctl user=drctl password=\(bed.password) options='-csearch_path=\(schema)'"
        let run = try DrctlProcess.run(["run", file, "--yes", "--state", conninfo], home: workspace.directory, directory: workspace.directory)
        #expect(run.status == 0, "\(run.stderr)")
        let listed = try DrctlProcess.run(["runs", "--output", "json", "--state", conninfo], home: workspace.directory, directory: workspace.directory)
        #expect(listed.status == 0, "\(listed.stderr)")
        let rows = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [[String: Any]] ?? []
        #expect(rows.map { $0["runbook"] as? String } == ["store-check"])
        #expect(rows.first?["status"] as? String == "succeeded")

        let misspelt = conninfo.replacingOccurrences(of: "password=", with: "passwrd=")
        let refused = try DrctlProcess.run(["runs", "--state", misspelt], home: workspace.directory, directory: workspace.directory)
        #expect(refused.status == 10, "\(refused.stdout)\n\(refused.stderr)")
        let leading = try DrctlProcess.run(["runs", "--state", "pasword=\(bed.password) host=127.0.0.1"], home: workspace.directory,
                                           directory: workspace.directory)
        #expect(leading.status == 10, "\(leading.stdout)\n\(leading.stderr)")
        #expect(leading.stderr.contains("not a libpq keyword"), "\(leading.stderr)")

        let files = try FileManager.default.contentsOfDirectory(atPath: workspace.directory.path).filter { !$0.hasPrefix(".") }
        #expect(files == ["store-check.yaml"], "a file was created for a conninfo: \(files)")
        for result in [run, listed, refused, leading] {
            #expect(!result.stdout.contains(bed.password) && !result.stderr.contains(bed.password))
        }
    }

    @Test("runs, show and report read a store through the hot standby; a run against the standby exits 10, not 70")
    func readCommandsServeFromTheStandby() async throws {
        let bed = try PostgresBed.require()
        let schema = try await bed.freshSchema("standby")
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("store-check.yaml", Self.runbook)
        let primary = PostgresBed.url(bed.primaryURL, schema: schema)
        let standby = PostgresBed.url(bed.standbyURL, schema: schema)
        #expect(try DrctlProcess.run(["run", file, "--yes", "--state", primary], home: workspace.directory).status == 0)
        var runId: String?
        for _ in 0..<100 where runId == nil {
            let listed = try DrctlProcess.run(["runs", "--output", "json", "--state", standby], home: workspace.directory)
            #expect(listed.status == 0, "\(listed.stderr)")
            let rows = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [[String: Any]] ?? []
            runId = rows.first?["id"] as? String
            if runId == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let id = try #require(runId, "the run never showed on the standby")
        let shown = try DrctlProcess.run(["show", id, "--journal", "--state", standby], home: workspace.directory)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("succeeded"))
        let report = try DrctlProcess.run(["report", id, "--format", "json", "--state", standby], home: workspace.directory)
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains(id))

        let refused = try DrctlProcess.run(["run", file, "--yes", "--state", standby], home: workspace.directory)
        #expect(refused.status == 10, "\(refused.stdout)\n\(refused.stderr)")
        #expect(refused.stderr.contains("takes no writes"), "\(refused.stderr)")
        for result in [shown, report, refused] {
            #expect(!result.stdout.contains(bed.password) && !result.stderr.contains(bed.password))
        }
    }

    @Test("a store without drctl's tables reads as empty, with a note, and is left without them")
    func emptyStoreReadsAsEmpty() async throws {
        let bed = try PostgresBed.require()
        let schema = try await bed.freshSchema("empty")
        let workspace = try RunbookWorkspace()
        let listed = try DrctlProcess.run(["runs", "--state", PostgresBed.url(bed.primaryURL, schema: schema)], home: workspace.directory)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("no runs"))
        #expect(listed.stderr.contains("no drctl tables yet"), "\(listed.stderr)")
        let admin = try await PostgresConnection.connect(bed.primaryURL)
        #expect(try await admin.query("SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", [.text(schema)])
            .first?.decode(Int.self, 0) == 0)

        let missing = workspace.directory.appendingPathComponent("none/state.db").path
        let shown = try DrctlProcess.run(["show", "run-1", "--state", missing], home: workspace.directory)
        #expect(shown.status == 2, "\(shown.stderr)")
        #expect(shown.stderr.contains("no drctl state store at"), "\(shown.stderr)")
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    @Test("`show RUN --journal --output json` prints every journal entry in one documented shape")
    func showJournalAsJSON() throws {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("store-check.yaml", Self.runbook)
        #expect(try workspace.drctl(["run", file, "--yes"]).status == 0)
        let id = try #require(workspace.onlyRunId())
        let shown = try workspace.drctl(["show", id, "--journal", "--output", "json"])
        #expect(shown.status == 0, "\(shown.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        let journal = try #require(object["journal"] as? [[String: Any]], "no journal array: \(shown.stdout)")
        #expect(journal.count == object["entries"] as? Int)
        #expect(journal.compactMap { $0["sequence"] as? Int } == Array(1...journal.count))
        for entry in journal {
            #expect(Set(entry.keys) == ["sequence", "at", "kind", "step", "attempt", "detail"], "\(entry)")
        }
        let finished = journal.last { $0["kind"] as? String == "run.status" }
        #expect((finished?["detail"] as? [String: Any])?["to"] as? String == "succeeded", "\(String(describing: finished))")
        #expect(journal.contains { $0["kind"] as? String == "step.status" && $0["step"] as? String == "hello" })
        // Without --journal the entries are not listed.
        let plain = try workspace.drctl(["show", id, "--output", "json"])
        #expect((try JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as? [String: Any])?["journal"] == nil)
    }

    @Test("the store's PostgreSQL server restarts while a step runs: the step and the run succeed", .timeLimit(.minutes(3)))
    func postgresRestartDuringAStep() async throws {
        let pair = try await onOwnThread { try PostgresBed.startPrivate() }
        defer { pair.stopPrivate() }
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("outage.yaml", Self.runbook(running: "sleep 3"))
        let run = try DrctlChild(["run", file, "--yes", "--state", pair.primaryURL, "--state-retry", "300"], home: workspace.directory)
        // Restart once the step has journaled its intent: its outcome is written after the restart.
        // (From here, not from the step: a server started by a step would keep the step's
        // process-exit notification open.)
        let observer = try await PostgresConnection.connect(pair.primaryURL)
        var started = false
        for _ in 0..<200 where !started {
            try await Task.sleep(for: .milliseconds(50))
            started = (try? await observer.query("SELECT count(*) FROM journal WHERE kind = 'step.intent'").first?.decode(Int.self, 0)) == 1
        }
        await observer.close()
        #expect(started, "the step never started")
        #expect(try await onOwnThread { try PostgresBed.spawnAndWait(pair.restartPrimaryArguments, output: "/dev/null") } == 0)
        let result = try await onOwnThread { run.finish(within: 120) }
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let listed = try DrctlProcess.run(["runs", "--output", "json", "--state", pair.primaryURL], home: workspace.directory)
        let rows = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [[String: Any]] ?? []
        #expect(rows.first?["status"] as? String == "succeeded", "\(listed.stdout)\n\(listed.stderr)")
    }

    @Test("the store's sessions are terminated by the server while a step runs: the run rides through")
    func terminatedSessionsDuringAStep() async throws {
        let bed = try PostgresBed.require()
        let schema = try await bed.freshSchema("terminated")
        let application = "drctl-cli-\(UInt32.random(in: 0...UInt32.max))"
        let url = PostgresBed.url(bed.primaryURL, schema: schema, extra: "&application_name=\(application)")
        let workspace = try RunbookWorkspace()
        let terminate = bed.superuserPSQL("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '\(application)'")
        let file = try workspace.write("outage.yaml", Self.runbook(running: terminate.replacingOccurrences(of: "\"", with: "\\\"")))
        let result = try DrctlProcess.run(["run", file, "--yes", "--state", url, "--state-retry", "300"], home: workspace.directory)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(!result.stdout.contains(bed.password) && !result.stderr.contains(bed.password))
    }

    @Test("the SQLite store replaced while a run executes: exit 10 naming the store, not a success written into the old file's WAL")
    func sqliteStoreReplacedMidRun() throws {
        let workspace = try RunbookWorkspace()
        let state = workspace.statePath
        let file = try workspace.write("outage.yaml", Self.runbook(running: "cp \(state) \(state).new && mv \(state).new \(state)"))
        let result = try workspace.drctl(["run", file, "--yes"])
        #expect(result.status == 10, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("moved, deleted or replaced"), "\(result.stderr)")
        #expect(!result.stderr.contains("internal error"))
    }
}
