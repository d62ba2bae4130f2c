import Foundation
import ArgumentParser

/// `drctl drill …`: DR drills. `due` and `schedule` here; `run`, `cleanup` and `report` join as
/// their issues land (append them to `subcommands`).
struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "DR drills: whether one is due, and how to schedule them.",
        subcommands: [DrillDueCommand.self, DrillScheduleCommand.self]
    )
}

/// `--plan` for the drill subcommands.
struct PlanOption: ParsableArguments {
    @Option(name: .long, help: "The DR plan (default: $DRCTL_PLAN, else ./drplan.yaml).") var plan: String?

    var path: String { plan ?? ProcessInfo.processInfo.environment["DRCTL_PLAN"] ?? "drplan.yaml" }
}
