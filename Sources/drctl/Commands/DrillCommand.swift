import Foundation
import ArgumentParser

/// `drctl drill …`: restore-and-validate exercises that never touch production, their schedule
/// and their leftovers.
struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Drills: restore copies in the DR region, validate, measure RPO/RTO, tear down; schedule them.",
        subcommands: [DrillRunCommand.self, DrillCleanupCommand.self, DrillDueCommand.self, DrillScheduleCommand.self]
    )
}

/// `--plan` for the drill subcommands.
struct PlanOption: ParsableArguments {
    @Option(name: .long, help: "The DR plan (default: $DRCTL_PLAN, else ./drplan.yaml).") var plan: String?

    var path: String { plan ?? ProcessInfo.processInfo.environment["DRCTL_PLAN"] ?? "drplan.yaml" }
}
