import Foundation

/// SIGINT and SIGTERM cancel a task (the heartbeat writer stops after its current beat) instead
/// of killing the process, so the summary is still printed.
final class CancellationTrap: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    init<Success, Failure>(_ task: Task<Success, Failure>) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            sources.append(source)
        }
    }

    deinit { sources.forEach { $0.cancel() } }
}
