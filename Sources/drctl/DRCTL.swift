import ArgumentParser
import DRCore
import Foundation

/// The root command. drctl parses, dispatches and renders; the work happens in DRCore and the
/// provider targets. Errors become exit codes in one place (`ErrorReport`).
struct DRCTL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drctl",
        abstract: "Backup and disaster-recovery orchestrator: runbooks, failovers, drills, RPO/RTO.",
        discussion: "Exit codes are listed in the README (\"Exit codes\"). Logs go to stderr, results to stdout.",
        version: DRCTLVersion.string,
        subcommands: [WhoamiCommand.self]
    )
}

enum DRCTLVersion {
    static let string = "0.1.0"
}

@main
enum Main {
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try DRCTL.parseAsRoot()
        } catch {
            // Help and --version are "errors" that exit 0; everything else is a usage error.
            let code = DRCTL.exitCode(for: error)
            let message = DRCTL.fullMessage(for: error)
            if code == .success {
                print(message)
                exit(ExitStatus.success.rawValue)
            }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            exit(ExitStatus.usage.rawValue)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
            exit(ExitStatus.success.rawValue)
        } catch {
            let report = ErrorReport(error)
            FileHandle.standardError.write(Data("drctl: error: \(report.message)\n".utf8))
            if let hint = report.hint {
                FileHandle.standardError.write(Data("hint: \(hint)\n".utf8))
            }
            exit(report.status.rawValue)
        }
    }
}
