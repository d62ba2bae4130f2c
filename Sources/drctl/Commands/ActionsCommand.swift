import ArgumentParser
import DRCore
import Foundation

/// `drctl actions`: the catalogue of the actions a runbook may name — mutating or not, what each
/// does, its arguments and the permissions it needs — from the actions' own declarations, through
/// the same registry the engine runs with. Needs no credentials.
struct ActionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actions",
        abstract: "The actions a runbook may name: what each does, its arguments, and the permissions it needs.",
        discussion: "`drctl actions --output markdown` prints docs/actions.md (scripts/gen-docs.sh writes it).")

    enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
        case text, json, markdown
    }

    @Option(name: .long, help: "Output format: text, json or markdown.")
    var output: Format = .text
    @Flag(name: .long, help: "No colours (also when NO_COLOR is set or stdout is not a terminal).")
    var noColor = false
    @Option(name: .long, help: "Log level on stderr: trace, debug, info, notice, warning, error (default: warning; env DRCTL_LOG_LEVEL).")
    var logLevel: String?

    func run() async throws {
        var global = GlobalOptions()
        global.logLevel = logLevel
        try global.bootstrapLogging()
        // No AWS context: the catalogue is the declarations, never a call.
        let reference = ActionReference(EngineSession.registry(for: nil))
        let text: String
        switch output {
        case .text: text = reference.text()
        case .json: text = try reference.json()
        case .markdown: text = reference.markdown(regenerate: "scripts/gen-docs.sh")
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
