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

    /// Runs the command through the one mechanism drctl has for commands (`LocalCommand`): on
    /// timeout or cancellation its whole process group is killed at once and reaped.
    private func launch() async throws -> Outcome {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        let result: LocalCommand.Result
        do {
            result = try await LocalCommand.run(command, environment: environment, timeout: seconds, grace: 0,
                                                outputLimit: Self.maximumOutputBytes)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw CredentialError(kind: .processFailed, provider: providerName, message: "could not start /bin/sh")
        }
        switch result.stopped {
        case .timedOut?:
            throw CredentialError(kind: .processFailed, provider: providerName, message: "timed out after \(timeout)")
        case .cancelled?:
            throw CancellationError()
        case nil:
            return Outcome(status: result.status, stdout: result.stdoutData, stderr: result.stderrData)
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
