import Foundation

/// Writes heartbeats to a primary: creates `drctl_heartbeat` if absent, then sets this writer's
/// row to `now()` every `interval`, on a fixed cadence (beat n at start + n × interval, so slow
/// beats do not make the cadence drift). Used by `drctl heartbeat` and started by drills.
///
/// A long-lived, structured task: `run` returns when its task is cancelled (or `duration` has
/// passed); `start` runs it in a `Task` that `RunningHeartbeat.stop()` cancels and awaits. The
/// process wires SIGTERM/SIGINT to that cancellation.
///
/// Only the first beat must succeed (it proves the URL, the credentials and the grants). Later
/// failures — the primary restarting, fenced read-only, the network cut during a failover — are
/// counted and the writer reconnects at the next beat: a drill's failover must not end it.
public struct HeartbeatWriter: Sendable {
    public let target: PostgresActionTarget
    public let interval: Double
    public let source: String
    let clock: any EngineClock

    public init(target: PostgresActionTarget, interval: Double = 1, source: String = HeartbeatTable.defaultSource,
                clock: any EngineClock = SystemClock()) {
        self.target = target
        self.interval = max(0.01, interval)
        self.source = source
        self.clock = clock
    }

    /// `url` is a URL or conninfo string; only its redacted form is ever shown.
    public init(url: String, interval: Double = 1, source: String = HeartbeatTable.defaultSource, clock: any EngineClock = SystemClock()) {
        self.init(target: PostgresActionTarget(key: "url", connectionString: url, display: PostgresActionTarget.display(url)),
                  interval: interval, source: source, clock: clock)
    }

    /// What a writer did.
    public struct Summary: Sendable, Equatable {
        public var beats = 0
        public var failedBeats = 0
        public var lastBeat: Heartbeat?
        /// The most recent failure (redacted), if any beat failed.
        public var lastError: String?
    }

    /// Writes beats until the task is cancelled or `duration` seconds have passed, then returns
    /// what it did. Throws only when the first beat fails (or for an unusable target).
    public func run(for duration: Double? = nil, onBeat: @escaping @Sendable (Heartbeat) -> Void = { _ in }) async throws -> Summary {
        let started = clock.now()
        var summary = Summary()
        var connection: PostgresConnection?
        var slot = 0
        while !Task.isCancelled {
            if let duration, clock.now().timeIntervalSince(started) >= duration { break }
            do {
                if connection == nil {
                    let opened = try await target.connect(timeout: max(1, Int(saturating: interval.rounded(.up))))
                    connection = opened
                    try await opened.query(HeartbeatTable.create)
                }
                let row = try await connection!.query(HeartbeatTable.beat, [.text(source)]).first!
                let beat = Heartbeat(source: source, beatAt: try row.decode(Date.self, 0), seq: try row.decode(Int64.self, 1))
                summary.beats += 1
                summary.lastBeat = beat
                onBeat(beat)
            } catch {
                // A broken or refusing connection is replaced at the next beat.
                if let broken = connection { await broken.close() }
                connection = nil
                if summary.beats == 0 && summary.failedBeats == 0 { throw error }
                summary.failedBeats += 1
                summary.lastError = "\(error)"
            }
            // The next slot still in the future: a beat that overran skips slots instead of bunching.
            let elapsed = clock.now().timeIntervalSince(started)
            slot = max(slot + 1, Int(saturating: (elapsed / interval).rounded(.down)) + 1)
            var wake = Double(slot) * interval
            if let duration { wake = min(wake, duration) }
            do {
                try await clock.sleep(seconds: wake - elapsed)
            } catch is CancellationError {
                break
            }
        }
        if let connection { await connection.close() }
        return summary
    }

    /// Starts `run` in a task of its own; stop it with `RunningHeartbeat.stop()`.
    public func start(for duration: Double? = nil, onBeat: @escaping @Sendable (Heartbeat) -> Void = { _ in }) -> RunningHeartbeat {
        RunningHeartbeat(task: Task { try await run(for: duration, onBeat: onBeat) })
    }

    /// A writer on `url` started in the background (for drills).
    public static func start(url: String, interval: Double = 1, source: String = HeartbeatTable.defaultSource) -> RunningHeartbeat {
        HeartbeatWriter(url: url, interval: interval, source: source).start()
    }
}

/// A heartbeat writer running in its own task.
public struct RunningHeartbeat: Sendable {
    public let task: Task<HeartbeatWriter.Summary, any Error>

    /// Cancels the writer and waits for it to finish its current beat; returns what it did.
    @discardableResult
    public func stop() async throws -> HeartbeatWriter.Summary {
        task.cancel()
        return try await task.value
    }
}
