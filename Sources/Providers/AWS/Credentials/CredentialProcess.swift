import DRCore
import Foundation

/// Runs a profile's `credential_process` and reads the JSON it prints
/// (https://docs.aws.amazon.com/sdkref/latest/guide/feature-process-credentials.html).
///
/// The command runs through `/bin/sh -c` with the given environment. Neither the command (it may
/// carry a token as an argument) nor its output appears in errors; from stderr only a short,
/// scrubbed first line is kept, so a script that prints a secret while failing does not leak it.
public struct CredentialProcess: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private let command: String
    public let profile: String
    private let environment: [String: String]
    public let timeout: Duration

    /// stdout beyond this is a broken or hostile process, not credentials.
    static let maximumOutputBytes = 1 << 20

    public init(command: String, profile: String, environment: [String: String], timeout: Duration = .seconds(60)) {
        self.command = command
        self.profile = profile
        self.environment = environment
        self.timeout = timeout
    }

    private var providerName: String { "credential_process (profile \(profile))" }

    public var description: String { providerName }
    public var debugDescription: String { providerName }

    public func run() async throws -> AWSCredentials {
        let outcome = try await launch()
        guard outcome.status == 0 else {
            var message = "exited with status \(outcome.status)"
            if let line = Self.safeFirstLine(of: outcome.stderr) { message += ": \(line)" }
            throw CredentialError(kind: .processFailed, provider: providerName, message: message)
        }
        let document = try CredentialDocument(outcome.stdout, provider: providerName, errorKind: .processFailed)
        guard let version = document.fields["Version"] as? Int, version == 1 else {
            throw CredentialError(kind: .processFailed, provider: providerName, message: "output must have \"Version\": 1")
        }
        return try document.credentials(tokenKey: "SessionToken")
    }

    private struct Outcome: Sendable {
        let status: Int32
        let stdout: Data
        let stderr: Data
    }

    private func launch() async throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.environment = environment
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice

        let completion = ProcessCompletion<Outcome>()
        let providerName = self.providerName
        let timeout = self.timeout
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Outcome, any Error>) in
                completion.install(continuation)
                do {
                    try process.run()
                } catch {
                    completion.finish(.failure(CredentialError(kind: .processFailed, provider: providerName,
                                                               message: "could not start /bin/sh")))
                    return
                }
                completion.started(pid: process.processIdentifier)
                // Drain both pipes on their own threads so a chatty stderr cannot block stdout.
                let group = DispatchGroup()
                let output = OutputBuffers()
                for (pipe, isStdout) in [(stdout, true), (stderr, false)] {
                    group.enter()
                    DispatchQueue.global().async {
                        output.set(Self.readAll(pipe.fileHandleForReading, limit: Self.maximumOutputBytes), stdout: isStdout)
                        group.leave()
                    }
                }
                group.notify(queue: .global()) {
                    process.waitUntilExit()
                    let (out, err) = output.contents
                    completion.finish(.success(Outcome(status: process.terminationStatus, stdout: out, stderr: err)))
                }
                let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                    // A grandchild may still hold the pipes open, so the caller is answered now
                    // rather than when the last reader sees EOF.
                    completion.finish(.failure(CredentialError(kind: .processFailed, provider: providerName,
                                                               message: "timed out after \(timeout)")))
                }
            }
        } onCancel: {
            completion.finish(.failure(CancellationError()))
        }
    }

    static func kill(_ pid: Int32) {
        // The shell runs in its own process group when Foundation spawns it with one; signal the
        // group first so `sh -c 'sleep 100'` does not leave the sleep behind, then the shell.
        if getpgid(pid) == pid { _ = Foundation.kill(-pid, SIGKILL) }
        _ = Foundation.kill(pid, SIGKILL)
    }

    private static func readAll(_ handle: FileHandle, limit: Int) -> Data {
        var data = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { return data }
            // Keep draining past the limit so the child is not blocked on a full pipe.
            if data.count < limit { data.append(chunk.prefix(limit - data.count)) }
        }
    }

    /// The first line of stderr, shortened, with anything that looks like a key or token removed.
    static func safeFirstLine(of data: Data) -> String? {
        let text = String(decoding: data.prefix(4096), as: UTF8.self)
        guard let first = text.split(whereSeparator: \.isNewline).first else { return nil }
        let line = redactingTokens(in: RedactedURL.scrub(String(first))).trimmingCharacters(in: .whitespaces)
        guard !line.isEmpty else { return nil }
        return line.count > 120 ? String(line.prefix(120)) + "…" : line
    }

    /// Replaces runs of token characters that are long and hold a digit (key ids are 20, secret
    /// keys 40, session and vault tokens hundreds); words and paths without digits stay readable.
    static func redactingTokens(in line: String) -> String {
        func isTokenCharacter(_ character: Character) -> Bool {
            character.isASCII && (character.isLetter || character.isNumber || "+/._-".contains(character))
        }
        var result = "", run = ""
        func flush() {
            let secretLooking = run.count >= 16 && run.contains(where: \.isNumber)
            result += secretLooking ? "<redacted>" : run
            run = ""
        }
        for character in line {
            if isTokenCharacter(character) {
                run.append(character)
            } else {
                flush()
                result.append(character)
            }
        }
        flush()
        return result
    }
}

/// Hands the outcome to the continuation exactly once, whichever of exit, timeout or
/// cancellation comes first; a timeout or cancellation also kills the process.
private final class ProcessCompletion<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Value, any Error>?
    private var result: Result<Value, any Error>?
    private var pid: Int32?

    func install(_ continuation: CheckedContinuation<Value, any Error>) {
        lock.lock()
        guard let result else {
            self.continuation = continuation
            lock.unlock()
            return
        }
        lock.unlock()
        continuation.resume(with: result)   // cancelled before it started
    }

    func started(pid: Int32) {
        let alreadyOver = lock.withLock { () -> Bool in
            self.pid = pid
            return result != nil
        }
        if alreadyOver { CredentialProcess.kill(pid) }
    }

    func finish(_ outcome: Result<Value, any Error>) {
        lock.lock()
        guard result == nil else {
            lock.unlock()
            return
        }
        result = outcome
        let continuation = self.continuation
        self.continuation = nil
        let pid = self.pid
        lock.unlock()
        if case .failure = outcome, let pid { CredentialProcess.kill(pid) }
        continuation?.resume(with: outcome)
    }
}

private final class OutputBuffers: @unchecked Sendable {
    private let lock = NSLock()
    private var stdout = Data()
    private var stderr = Data()

    func set(_ data: Data, stdout isStdout: Bool) {
        lock.withLock {
            if isStdout { stdout = data } else { stderr = data }
        }
    }

    var contents: (Data, Data) { lock.withLock { (stdout, stderr) } }
}
