import Foundation
import Testing

/// The kill -9 sweep of a failover (issue 11): `drctl failover --to us-west-2 --yes` of the
/// reference plan, SIGKILLed at a journal append, then `drctl resume RUN --yes`. Each point gets a
/// fresh copy of the reference topology (its own name prefix, seeded ahead in a private moto) and
/// must end as the uninterrupted failover did: the same exit code, run and step statuses, the same
/// summary (times aside), with the fence (ModifyDBInstance: the reference plan isolates the old
/// primary, since RDS refuses to stop a primary with read replicas) and PromoteReadReplica each sent once.
///
/// CI sweeps a deterministic sample (every `stride`-th point, the first and the last two);
/// `DRCTL_CRASH_SWEEP=full` (scripts/bench-crash-sweep.sh) sweeps every point.
@Suite("Crash-point sweep of a failover", .serialized)
struct FailoverCrashSweepTests {
    static func plan(prefix: String) -> String {
        """
        name: \(prefix)
        regions: { primary: us-east-1, dr: us-west-2 }
        budgets: { rpo: 1h, rto: 4h }
        aws:
          databases:
            - name: db1
              primary: { region: us-east-1, instance: \(prefix)-primary }
              replicas: [ { region: us-west-2, instance: \(prefix)-replica } ]
              fence: security-group
              fence_security_groups: [ sg-0isolate ]
              backup_retention_days: 30
          buckets:
            - { source: \(prefix)-docs, source_region: us-east-1, destination: \(prefix)-docs-dr, destination_region: us-west-2, storage_class: STANDARD_IA }
          secrets:
            - { name: \(prefix)/db-credentials, region: us-east-1, promote_on_failover: true }
          dns:
            - { zone_name: \(prefix).example.com., name: app.\(prefix).example.com., type: CNAME, ttl: 60,
                values: { us-east-1: [app-use1.\(prefix).example.com.], us-west-2: [app-usw2.\(prefix).example.com.] } }
          standby:
            us-west-2:
              eks_nodegroups: [ { cluster: \(prefix)-dr, nodegroup: workers, min: 2, max: 20, desired: 6 } ]
        """
    }

    /// Calls that must never be repeated: each changes the world in a way a second call does not
    /// undo or repeat harmlessly (a second promotion or secret promotion fails; a second fence
    /// reboots the old primary again). An uninterrupted failover makes each once.
    static let onceOnlyCalls = ["rds:ModifyDBInstance", "rds:StopDBInstance", "rds:RebootDBInstance", "rds:PromoteReadReplica",
                                "secretsmanager:StopReplicationToReplica"]
    /// Idempotent by design (the same UPSERT, the same node-group size): a resume may send them
    /// again when a kill lost the outcome of one in flight; the sweep reports how often.
    static let idempotentCalls = ["route53:ChangeResourceRecordSets", "eks:UpdateNodegroupConfig"]

    struct Ending: Equatable, CustomStringConvertible {
        var run: RunEnding
        var summary: [String]
        var calls: [String: Int]
        var description: String { "\(run)\nsummary: \(summary.joined(separator: " | "))\ncalls: \(calls.sorted { $0.key < $1.key })" }
    }

    /// The summary block a move prints last, with its run id, measured durations and the
    /// topology's prefix masked.
    static func summary(_ stdout: String) -> [String] {
        guard let start = stdout.range(of: "\nSummary of ", options: .backwards) else { return [] }
        return stdout[start.lowerBound...].split(separator: "\n").map { line in
            masked(line.replacingOccurrences(of: #"run-[0-9]{8}-[0-9]{6}-[0-9a-f]+"#, with: "RUN", options: .regularExpression)
                .replacingOccurrences(of: #"RTO measured: [0-9hms.]+"#, with: "RTO measured: T", options: .regularExpression))
        }
    }

    /// Each point's topology has its own prefix (cs0, cs1 …), which step ids carry.
    static func masked(_ text: some StringProtocol) -> String {
        String(text).replacingOccurrences(of: #"\bcs[0-9]+\b"#, with: "PREFIX", options: .regularExpression)
    }

    /// Runs one failover of a seeded prefix under `extra` (a crash point, or the append counter)
    /// and resumes it until it stops.
    static func failover(_ bed: PrivateAWSBed, prefix: String, extra: [String: String]) throws -> (CrashSweepRun.Result, Ending?) {
        let home = try TemporaryHome()
        try home.write("drplan.yaml", plan(prefix: prefix))
        let run = CrashSweepRun(state: home.url.appendingPathComponent("state.db").path, home: home.url,
                                environment: bed.drctlEnvironment, effectsPath: nil)
        guard bed.waitUntilSeeded(prefix) else { throw CancellationError() }
        try bed.resetCounts()
        let result = try withExtendedLifetime(home) {
            try run.execute(["failover", "--to", "us-west-2", "--plan", home.url.appendingPathComponent("drplan.yaml").path, "--yes"], extra: extra)
        }
        let counted = try bed.counts()
        let calls = counted.filter { onceOnlyCalls.contains($0.key) }
        let repeated = counted.filter { idempotentCalls.contains($0.key) && $0.value > 1 }
        if !repeated.isEmpty { print("crash sweep (failover): \(extra["DRCTL_CRASH_WHEN"] ?? "") append \(extra["DRCTL_CRASH_AT"] ?? ""): idempotent calls sent again: \(repeated)") }
        let last = result.resumes.last ?? result.first
        return (result, result.ending.map { ending in
            var run = ending
            run.steps = Dictionary(ending.steps.map { (masked($0.key), $0.value) }, uniquingKeysWith: { first, _ in first })
            return Ending(run: run, summary: summary(last.stdout), calls: calls)
        })
    }

    /// Defects this sweep found that no branch fixes yet, recognised narrowly so that anything
    /// else still fails. Each names the point, what happens and what should.
    static func knownDefect(_ point: CrashPoint, ending: Ending, expected: Ending, appends: Int) -> String? {
        var sameButSummary = ending
        sameButSummary.summary = expected.summary
        // Killed before the first append — the preflight's note (expected data loss, checks) — the
        // run exists without it; the resumed move cannot tell the expected data loss any more.
        if point == CrashPoint(append: 1, moment: "before"), sameButSummary == expected,
           ending.summary.contains(where: { $0.contains("RPO expected: unknown") }) {
            return "a move killed before its preflight note is journaled resumes without it: the summary says 'RPO expected: unknown'"
        }
        return nil
    }

    @Test("killed at journal appends, a failover resumed ends as an uninterrupted one, the fence and Promote sent once")
    func failoverKilledAtEachPointResumesToTheSameEnd() throws {
        let bed = try PrivateAWSBed()
        // Seeding runs ahead of the points, in its own process: the reference's topology, then
        // always the next few points' while a point runs.
        let ahead = 3
        try bed.seed((0...ahead).map { "cs\($0)" })

        let countFile = bed.directory.appendingPathComponent("appends").path
        let (first, reference) = try Self.failover(bed, prefix: "cs0", extra: ["DRCTL_CRASH_COUNT_FILE": countFile])
        let expected = try #require(reference, "the uninterrupted failover: \(first.first.stdout)\n\(first.first.stderr)")
        let appends = Int((try? String(contentsOfFile: countFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(expected.run.exitStatus == 0 && expected.run.runStatus == "succeeded", "\(expected)")
        #expect(expected.calls["rds:ModifyDBInstance"] == 1 && expected.calls["rds:PromoteReadReplica"] == 1
                && expected.calls["secretsmanager:StopReplicationToReplica"] == 1, "\(expected)")
        #expect(!expected.summary.isEmpty, "no summary: \(first.first.stdout)")
        #expect(appends >= 20, "an uninterrupted failover made \(appends) journal appends")

        let points = CrashSweepScale.full ? CrashPoint.all(total: appends) : CrashPoint.sample(total: appends, stride: 9)
        let started = Date()
        var wrong: [String] = []
        for (index, point) in points.enumerated() {
            try bed.seed(["cs\(index + 1 + ahead)"])
            let (result, ending) = try Self.failover(bed, prefix: "cs\(index + 1)", extra: point.environment)
            #expect(result.first.killedBySignal && result.first.stderr.contains("crash point \(point.append)"),
                    "\(point): drctl was not stopped there\n\(describe(point, result))")
            guard let ending else { Issue.record("\(point): no ending\n\(describe(point, result))"); continue }
            // The fence (security-group: ModifyDBInstance) and the promotion, each sent once.
            for call in ["rds:ModifyDBInstance", "rds:PromoteReadReplica"] {
                #expect(ending.calls[call] == 1, "\(point): \(call) sent \(ending.calls[call] ?? 0) times\n\(describe(point, result))")
            }
            if ending != expected {
                wrong.append(point.description)
                let message = "\(point): expected \(expected)\ngot \(ending)\n\(describe(point, result))"
                if let known = Self.knownDefect(point, ending: ending, expected: expected, appends: appends) {
                    withKnownIssue(Comment(rawValue: known)) { Issue.record(Comment(rawValue: message)) }
                } else {
                    Issue.record(Comment(rawValue: message))
                }
            }
        }
        print("crash sweep (failover, \(CrashSweepScale.full ? "every point" : "CI sample")): \(appends) appends, \(points.count) of "
              + "\(CrashPoint.all(total: appends).count) points, \(String(format: "%.1f", Date().timeIntervalSince(started))) s; "
              + "\(wrong.isEmpty ? "every point ended as the uninterrupted failover" : "wrong at \(wrong.joined(separator: ", "))")")
    }
}
