import DRCore
import Foundation

/// Asks for approvals on the controlling terminal. Irreversible steps need the resource name
/// typed exactly; others need "yes". Without a terminal it answers nil and the run pauses.
struct TerminalPrompter: ApprovalPrompter {
    let operatorName: String
    let interruption: InterruptionFlag
    let color: Bool

    static var hasTerminal: Bool { isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 }

    func requestApproval(_ request: ApprovalRequest) async -> ApprovalAnswer? {
        guard Self.hasTerminal else { return nil }
        let bold = color ? "\u{1B}[1m" : "", reset = color ? "\u{1B}[0m" : ""
        print("\n\(bold)Approval needed\(reset) — \(request.shown)")
        let expected = request.irreversible ? (request.resource ?? request.stepId) : "yes"
        for _ in 0..<3 {
            FileHandle.standardOutput.write(Data("Type \(bold)\(expected)\(reset) to approve, or no to refuse: ".utf8))
            guard let line = await Self.readLine(interruption: interruption) else {
                print("")
                return nil   // Ctrl-C or end of input: pause, nothing approved
            }
            let answer = line.trimmingCharacters(in: .whitespaces)
            if answer == expected { return .approved(by: operatorName) }
            if ["no", "n"].contains(answer.lowercased()) { return .denied(by: operatorName, reason: "refused at the terminal") }
            print("That does not match \(expected).")
        }
        return .denied(by: operatorName, reason: "confirmation did not match three times")
    }

    /// An in-doubt step that cannot be observed: typing the step id allows it to act again.
    func confirmRerun(_ request: RerunRequest) async -> ApprovalAnswer? {
        guard Self.hasTerminal else { return nil }
        let bold = color ? "\u{1B}[1m" : "", reset = color ? "\u{1B}[0m" : ""
        print("\n\(bold)Run again?\(reset) — \(request.shown)")
        for _ in 0..<3 {
            FileHandle.standardOutput.write(Data("Type \(bold)\(request.stepId)\(reset) to run it again, or no to leave it unknown: ".utf8))
            guard let line = await Self.readLine(interruption: interruption) else {
                print("")
                return nil
            }
            let answer = line.trimmingCharacters(in: .whitespaces)
            if answer == request.stepId { return .approved(by: operatorName) }
            if ["no", "n"].contains(answer.lowercased()) { return .denied(by: operatorName, reason: "refused at the terminal") }
            print("That does not match \(request.stepId).")
        }
        return .denied(by: operatorName, reason: "confirmation did not match three times")
    }

    /// Reads a line on its own thread (never blocking the cooperative pool); nil on EOF or when
    /// an interrupt arrives first.
    static func readLine(interruption: InterruptionFlag) async -> String? {
        let gate = LineGate()
        Thread.detachNewThread {
            gate.deliver(Swift.readLine(strippingNewline: true))
        }
        return await withTaskGroup(of: String??.self) { group in
            group.addTask { await gate.value() }
            group.addTask {
                await interruption.wait(until: .pauseAtBoundary)
                return .some(nil)
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? nil
        }
    }
}

/// Hands one line from the reader thread to the waiting task.
private final class LineGate: @unchecked Sendable {
    private let lock = NSLock()
    private var line: String??
    private var waiter: CheckedContinuation<String??, Never>?

    func deliver(_ value: String?) {
        lock.lock()
        if let waiter {
            self.waiter = nil
            lock.unlock()
            waiter.resume(returning: .some(value))
        } else {
            line = .some(value)
            lock.unlock()
        }
    }

    func value() async -> String?? {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let line {
                lock.unlock()
                continuation.resume(returning: line)
            } else {
                waiter = continuation
                lock.unlock()
            }
        }
    }
}
