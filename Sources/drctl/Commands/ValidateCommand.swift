import ArgumentParser
import DRCore
import Foundation

/// `drctl validate FILE…`: every problem of every runbook and DR plan, located; nothing runs.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Check runbooks and DR plans without running anything.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Runbook and DR plan files.") var files: [String]

    func run() async throws {
        try global.bootstrapLogging()
        var invalid = 0
        var results: [[String: String]] = []
        for file in files {
            do {
                // A plan may be larger than a runbook (16 MiB, not 1): a runbook's own limit applies when it is read as one.
                let bytes = try RunbookLoader.readFile(path: file, what: "a runbook or DR plan file", maximumBytes: RunbookLoader.Limits.plan.maximumBytes)
                if DRPlanLoader.isPlan(bytes: bytes, sections: ProviderRegistration.sections) {
                    let plan = try DRPlanLoader.parse(bytes: bytes, path: file, sections: ProviderRegistration.sections)
                    let sites = "primary \(plan.primarySite), DR \(plan.drSites.map(\.description).joined(separator: ", "))"
                    results.append(["file": file, "status": "ok", "plan": plan.name, "sites": sites,
                                    "sections": plan.sectionKeys.joined(separator: ",")])
                    if global.output == .text {
                        print("\(file): ok (DR plan \(plan.name): \(sites); \(plan.sectionKeys.isEmpty ? "no resources" : plan.sectionKeys.joined(separator: ", ")))")
                    }
                } else {
                    let runbook = try RunbookLoader.parse(bytes: bytes, path: file, catalog: EngineSession.defaultRegistry().catalog)
                    results.append(["file": file, "status": "ok", "runbook": runbook.name, "steps": String(runbook.steps.count)])
                    if global.output == .text { print("\(file): ok (\(runbook.name), \(runbook.steps.count) steps)") }
                }
            } catch {
                invalid += 1
                results.append(["file": file, "status": "invalid", "problems": String(describing: error)])
                if global.output == .text { FileHandle.standardError.write(Data("\(error)\n".utf8)) }
            }
        }
        if global.output == .json { try JSONOutput.print(results) }
        if invalid > 0 { throw RunEnded(status: .invalidRunbook, message: nil) }
    }
}
