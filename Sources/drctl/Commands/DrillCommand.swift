import ArgumentParser

/// `drctl drill …`: restore-and-validate exercises that never touch production.
struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Drills: restore copies in the DR region, validate, measure RPO/RTO, tear down.",
        subcommands: [DrillRunCommand.self, DrillCleanupCommand.self])
}
