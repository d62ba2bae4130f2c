import ArgumentParser
import DRCore
import Foundation

/// `drctl heartbeat`: writes the heartbeat table on a primary every `--interval` until stopped
/// (Ctrl-C, SIGTERM, or `--duration`), so `postgres.heartbeat-rpo` can measure the RPO a copy
/// really has. The URL comes from an environment variable only: no password on a command line.
struct HeartbeatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heartbeat",
        abstract: "Write heartbeats to a PostgreSQL primary (table drctl_heartbeat) until stopped; the source of the measured RPO.",
        discussion: "Runs in the foreground. Ctrl-C or SIGTERM stops it after the current beat; the summary goes to stdout."
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("url-env"), help: "Name of the environment variable holding the primary's URL or conninfo.")
    var urlEnv: String

    @Option(help: "Time between beats (e.g. 1s, 200ms).")
    var interval: String = "1s"

    @Option(help: "The writer's name: its row in drctl_heartbeat.")
    var source: String = HeartbeatTable.defaultSource

    @Option(help: "Stop after this long (for drills and tests); without it, run until stopped.")
    var duration: String?

    struct Summary: Encodable {
        let target: String
        let source: String
        let beats: Int
        let failedBeats: Int
        let lastBeat: String?
        let lastSeq: Int64?
        let lastError: String?
    }

    func validate() throws {
        guard let seconds = Self.seconds(interval), seconds > 0 else { throw ValidationError("--interval must be a positive duration like 1s or 200ms (at most 366d)") }
        if let duration, Self.seconds(duration) == nil { throw ValidationError("--duration must be a duration like 30s or 5m (\(DurationText.rangeText))") }
        if source.isEmpty { throw ValidationError("--source must not be empty") }
    }

    func run() async throws {
        try global.bootstrapLogging()
        guard let url = ProcessInfo.processInfo.environment[urlEnv], !url.isEmpty else {
            throw RunEnded(status: .invalidConfiguration, message: "environment variable \(urlEnv) (named by --url-env) is not set")
        }
        let writer = HeartbeatWriter(url: url, interval: Self.seconds(interval)!, source: source)
        FileHandle.standardError.write(Data("drctl: heartbeat to \(writer.target.display) as \(source) every \(interval); Ctrl-C stops\n".utf8))
        let running = writer.start(for: duration.flatMap(Self.seconds))
        let trap = CancellationTrap(running.task)
        let summary: HeartbeatWriter.Summary
        do {
            summary = try await running.task.value
        } catch {
            // The first beat failed: a bad URL, rejected credentials, no grant, a standby.
            let unreachable = (error as? ActionError).map { $0.kind != .permanent } ?? false
            throw RunEnded(status: unreachable ? .cloudError : .invalidConfiguration, message: "heartbeat: \(error)")
        }
        withExtendedLifetime(trap) {}
        let report = Summary(target: writer.target.display, source: source, beats: summary.beats, failedBeats: summary.failedBeats,
                             lastBeat: summary.lastBeat.map { ReportTime.iso8601($0.beatAt) }, lastSeq: summary.lastBeat?.seq,
                             lastError: summary.lastError)
        switch global.output {
        case .json:
            try JSONOutput.print(report)
        case .text:
            var line = "heartbeat: \(report.beats) beat(s) to \(report.target) as \(source)"
            if let last = report.lastBeat, let seq = report.lastSeq { line += ", last at \(last) (seq \(seq))" }
            if report.failedBeats > 0 { line += "; \(report.failedBeats) failed, last error: \(report.lastError ?? "?")" }
            print(line)
        }
    }

    /// "200ms", "1s", "5m": the runbooks' durations, with their range.
    private static func seconds(_ text: String) -> Double? { DurationText.parse(text) }
}
