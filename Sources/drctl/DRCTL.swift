import ArgumentParser
import DRCore
import Foundation

/// The root command. drctl parses, dispatches and renders; the work happens in DRCore and the
/// provider targets. Errors become exit codes in one place (`ErrorReport`).
struct DRCTL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drctl",
        abstract: "Backup and disaster-recovery orchestrator: runbooks, failovers, drills, RPO/RTO.",
        discussion: "Exit codes are listed in docs/exit-codes.md. Logs go to stderr, results to stdout.",
        version: DRCTLVersion.string,
        subcommands: [FailoverCommand.self, SwitchoverCommand.self, ValidateCommand.self, PlanCommand.self, RunCommand.self, ResumeCommand.self, ApproveCommand.self,
                      AbortCommand.self, RunsCommand.self, ShowCommand.self, ReportCommand.self, StatusCommand.self, DrillCommand.self,
                      HeartbeatCommand.self, WhoamiCommand.self, ActionsCommand.self, IAMCommand.self]
    )
}

enum DRCTLVersion {
    static let string = "0.1.0"
}

@main
enum Main {
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try DRCTL.parseAsRoot()
        } catch {
            exit(report(error).rawValue)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(ExitStatus.success.rawValue)
        } catch let error as ValidationError {
            // Found while running (a region the plan does not have, a bad --input): the arguments
            // parsed, so the message and where to look — not the root command's whole usage.
            let name = type(of: command).configuration.commandName ?? "drctl"
            FileHandle.standardError.write(Data("drctl: error: \(error.message)\nhint: `drctl \(name) --help` lists the options\n".utf8))
            exit(ExitStatus.usage.rawValue)
        } catch {
            exit(report(error).rawValue)
        }
    }

    /// Prints the error and returns the exit status. ArgumentParser's own errors (help, version,
    /// bad flags, `validate()`) keep its messages; they exit 0 or as usage errors.
    static func report(_ error: any Error) -> ExitStatus {
        if let ended = error as? RunEnded {
            if let message = ended.message { FileHandle.standardError.write(Data("drctl: \(message)\n".utf8)) }
            return ended.status
        }
        if let report = ErrorReport(recognizing: error) {
            FileHandle.standardError.write(Data("drctl: error: \(report.message)\n".utf8))
            if let hint = report.hint { FileHandle.standardError.write(Data("hint: \(hint)\n".utf8)) }
            return report.status
        }
        let message = DRCTL.fullMessage(for: error)
        switch DRCTL.exitCode(for: error) {
        case .success:
            print(message)
            return .success
        case .validationFailure:
            FileHandle.standardError.write(Data((message + "\n").utf8))
            return .usage
        default:
            FileHandle.standardError.write(Data("drctl: error: \(message)\nhint: please report this with the command you ran\n".utf8))
            return .internalError
        }
    }
}
