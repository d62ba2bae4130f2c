import ArgumentParser
import DRCore
import Foundation
import Logging

enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: text or json.")
    var output: OutputFormat = .text

    @Flag(name: .long, help: "No colours (also when NO_COLOR is set or stdout is not a terminal).")
    var noColor = false

    @Option(name: .long, help: "Log level on stderr: trace, debug, info, notice, warning, error (default: warning; env DRCTL_LOG_LEVEL).")
    var logLevel: String?

    func bootstrapLogging() throws {
        let raw = logLevel ?? ProcessInfo.processInfo.environment["DRCTL_LOG_LEVEL"] ?? "warning"
        guard let level = Logger.Level(rawValue: raw.lowercased()) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical (got '\(raw)')")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Options for commands that talk to AWS.
struct AWSOptions: ParsableArguments {
    @Option(name: .long, help: "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's region).")
    var region: String?

    @Option(name: .long, help: "Named profile from the AWS config/credentials files (default: AWS_PROFILE).")
    var profile: String?
}
