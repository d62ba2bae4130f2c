import DRCore
import Foundation

/// SIGINT and SIGTERM raise the run's interruption flag instead of killing the process: the first
/// pauses at the next step boundary, the second stops what is running (journaled either way).
final class SignalTrap: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    init(_ interruption: InterruptionFlag, announce: @escaping @Sendable (InterruptionFlag.Stage) -> Void) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                interruption.raise()
                announce(interruption.stage)
            }
            source.resume()
            sources.append(source)
        }
    }

    deinit { sources.forEach { $0.cancel() } }
}
