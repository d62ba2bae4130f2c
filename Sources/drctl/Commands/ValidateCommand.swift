import ArgumentParser
import DRCore
import Foundation

/// `drctl validate FILE…`: every problem of every file, located; nothing runs.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Check runbooks without running anything.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Runbook files.") var files: [String]

    func run() async throws {
        try global.bootstrapLogging()
        var invalid = 0
        var results: [[String: String]] = []
        for file in files {
            do {
                let runbook = try RunbookLoader.load(path: file, catalog: EngineSession.defaultRegistry().catalog)
                results.append(["file": file, "status": "ok", "runbook": runbook.name, "steps": String(runbook.steps.count)])
                if global.output == .text { print("\(file): ok (\(runbook.name), \(runbook.steps.count) steps)") }
            } catch {
                invalid += 1
                results.append(["file": file, "status": "invalid", "problems": error.description])
                if global.output == .text { FileHandle.standardError.write(Data("\(error.description)\n".utf8)) }
            }
        }
        if global.output == .json { try JSONOutput.print(results) }
        if invalid > 0 { throw RunEnded(status: .invalidRunbook, message: nil) }
    }
}
