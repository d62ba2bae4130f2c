import DRCore
import Foundation

/// Renders engine events. Three forms: a live status line on a terminal, plain lines elsewhere
/// (cron, CI, pipes), one JSON object per line with `--output json`.
enum RunRenderer {
    static func make(format: OutputFormat, color: Bool) -> any RunObserver {
        switch format {
        case .json: return JSONLinesObserver()
        case .text: return TerminalPrompter.hasTerminal ? LiveObserver(color: color) : PlainLinesObserver()
        }
    }
}

/// Writes stdout under a lock so lines from concurrent steps never interleave.
final class OutputLock: @unchecked Sendable {
    static let shared = OutputLock()
    private let lock = NSLock()
    func write(_ text: String) {
        lock.lock()
        fflush(nil)   // what `print` buffered comes first

        FileHandle.standardOutput.write(Data(text.utf8))
        lock.unlock()
    }
}

private func clock() -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "HH:mm:ss"
    formatter.locale = Locale(identifier: "en_US_POSIX")
    return formatter.string(from: Date())
}

/// One line per event that matters; progress when what runs changes, else a heartbeat a minute.
final class PlainLinesObserver: RunObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var policy = ProgressLinePolicy()

    func handle(_ event: EngineEvent) {
        guard let line = Self.line(for: event) else {
            if case .progress(let snapshot) = event {
                lock.lock()
                let print = policy.shouldPrint(snapshot) && !snapshot.running.isEmpty
                lock.unlock()
                if print { OutputLock.shared.write("\(clock()) \(Self.progressText(snapshot))\n") }
            }
            return
        }
        OutputLock.shared.write("\(clock()) \(line)\n")
    }

    static func line(for event: EngineEvent) -> String? {
        switch event {
        case .runStarted(let runId, let runbook, let resumed):
            return "\(resumed ? "resuming" : "starting") run \(runId) of \(runbook)"
        case .stepStarted(let stepId, let attempt, let summary):
            return "step \(stepId) started\(attempt > 1 ? " (attempt \(attempt))" : ""): \(summary)"
        case .stepRetrying(let stepId, let attempt, let delay, let error):
            return "step \(stepId) will retry (attempt \(attempt)) in \(DurationText.format(delay)): \(error)"
        case .stepFinished(let stepId, let state, let error, let duration):
            return "step \(stepId) \(state.rawValue) after \(DurationText.format(duration))\(error.map { ": \($0)" } ?? "")"
        case .stepWaitingForApproval(let stepId, _):
            return "step \(stepId) is waiting for an approval"
        case .message(let text):
            return text
        case .runFinished(let runId, let status, let outputs):
            var text = "run \(runId) \(status.rawValue)"
            if !outputs.isEmpty { text += " — outputs: " + outputs.keys.sorted().map { "\($0)=\(outputs[$0]!)" }.joined(separator: ", ") }
            return text
        case .progress:
            return nil
        }
    }

    static func progressText(_ snapshot: ProgressSnapshot) -> String {
        var text = "\(snapshot.done)/\(snapshot.total) steps done; running: \(snapshot.running.joined(separator: ", ")); elapsed \(DurationText.format(snapshot.elapsed))"
        if let budget = snapshot.rtoBudget { text += " of RTO \(DurationText.format(budget))" }
        text += ", forecast \(DurationText.format(snapshot.forecast))"
        return text
    }
}

/// Step lines scroll; one status line at the bottom is redrawn in place.
final class LiveObserver: RunObserver, @unchecked Sendable {
    private let color: Bool
    private let lock = NSLock()
    private var status = ""

    init(color: Bool) { self.color = color }

    func handle(_ event: EngineEvent) {
        lock.lock()
        defer { lock.unlock() }
        if case .progress(let snapshot) = event {
            status = PlainLinesObserver.progressText(snapshot)
            if let budget = snapshot.rtoBudget, snapshot.forecast > budget, color {
                status = "\u{1B}[31m\(status) — over budget\u{1B}[0m"
            }
        } else if let line = PlainLinesObserver.line(for: event) {
            OutputLock.shared.write("\r\u{1B}[K\(clock()) \(decorate(line, event))\n")
        }
        OutputLock.shared.write("\r\u{1B}[K\(status)")
        if case .runFinished = event { OutputLock.shared.write("\r\u{1B}[K") }
    }

    private func decorate(_ line: String, _ event: EngineEvent) -> String {
        guard color, case .stepFinished(_, let state, _, _) = event else { return line }
        switch state {
        case .succeeded: return "\u{1B}[32m\(line)\u{1B}[0m"
        case .failed, .unknown: return "\u{1B}[31m\(line)\u{1B}[0m"
        default: return line
        }
    }
}

/// `--output json`: one event per line, stable keys; progress when what runs changes, else a
/// heartbeat a minute.
final class JSONLinesObserver: RunObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var policy = ProgressLinePolicy()

    func handle(_ event: EngineEvent) {
        if case .progress(let snapshot) = event {
            lock.lock()
            let print = policy.shouldPrint(snapshot)
            lock.unlock()
            guard print else { return }
        }
        var object: [String: Any] = ["time": ISO8601DateFormatter().string(from: Date())]
        switch event {
        case .runStarted(let runId, let runbook, let resumed):
            object.merge(["event": "run.started", "run": runId, "runbook": runbook, "resumed": resumed]) { $1 }
        case .stepStarted(let stepId, let attempt, let summary):
            object.merge(["event": "step.started", "step": stepId, "attempt": attempt, "summary": summary]) { $1 }
        case .stepRetrying(let stepId, let attempt, let delay, let error):
            object.merge(["event": "step.retrying", "step": stepId, "attempt": attempt, "delay_seconds": delay, "error": error]) { $1 }
        case .stepFinished(let stepId, let state, let error, let duration):
            object.merge(["event": "step.finished", "step": stepId, "status": state.rawValue, "duration_seconds": duration]) { $1 }
            if let error { object["error"] = error }
        case .stepWaitingForApproval(let stepId, let request):
            object.merge(["event": "step.waiting_for_approval", "step": stepId, "summary": request.summary,
                          "irreversible": request.irreversible]) { $1 }
        case .progress(let snapshot):
            object.merge(["event": "progress", "running": snapshot.running, "done": snapshot.done, "total": snapshot.total,
                          "elapsed_seconds": snapshot.elapsed, "forecast_seconds": snapshot.forecast]) { $1 }
            if let budget = snapshot.rtoBudget { object["rto_budget_seconds"] = budget }
        case .message(let text):
            object.merge(["event": "message", "text": text]) { $1 }
        case .runFinished(let runId, let status, let outputs):
            object.merge(["event": "run.finished", "run": runId, "status": status.rawValue,
                          "outputs": outputs.mapValues { $0.description }]) { $1 }
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        OutputLock.shared.write(String(decoding: data, as: UTF8.self) + "\n")
    }
}
