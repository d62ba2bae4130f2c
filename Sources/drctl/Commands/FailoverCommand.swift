import AWSProvider
import ArgumentParser
import DRCore
import Foundation

/// `drctl failover --to REGION`: the unplanned move. Preflight, the data-loss gate against the RPO
/// budget, typed confirmation, then the plan's failover runbook (fence, promote, scale, traffic),
/// and a summary with the measured RTO.
struct FailoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Fail over to a region: preflight, data-loss check, fence, promote, move traffic, scale up.")

    @OptionGroup var move: RegionMoveOptions

    @Option(name: .customLong("accept-data-loss"),
            help: "Accept up to this much data loss (e.g. 90m) when the expected loss is above the RPO budget or unknown; journaled.")
    var acceptDataLoss: String?

    func validate() throws {
        if let acceptDataLoss, DurationText.parse(acceptDataLoss) == nil {
            throw ValidationError("--accept-data-loss expects a duration like 90m or 2h (\(DurationText.rangeText)), got '\(acceptDataLoss)'")
        }
    }

    func run() async throws {
        try await RegionMove(options: move, kind: .failover, acceptedLoss: acceptDataLoss.flatMap(DurationText.parse)).perform()
    }
}

/// `drctl switchover --to REGION`: the planned move, without data loss: fence first, wait until
/// the replicas have caught up, then promote.
struct SwitchoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchover",
        abstract: "Planned move to a region with no data loss: fence, wait for the replicas to catch up, promote, move traffic.")

    @OptionGroup var move: RegionMoveOptions

    func run() async throws {
        try await RegionMove(options: move, kind: .switchover, acceptedLoss: nil).perform()
    }
}

struct RegionMoveOptions: ParsableArguments {
    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateOptions
    @OptionGroup var execution: ExecutionOptions
    @OptionGroup var aws: AWSOptions

    @Option(name: .long, help: "The region to move to.") var to: String
    @Option(name: .long, help: "The region to move away from (default: the plan's other region).") var from: String?
    @Option(name: .long, help: "The DR plan (default: $DRCTL_PLAN, else ./drplan.yaml).") var plan: String?
    @Flag(name: .long, help: "Preflight and the plan of calls only; changes nothing.") var dryRun = false
    @Flag(name: .long, help: "Print the runbook this would run, and stop.") var printRunbook = false
    @Option(name: .long, help: "Run this runbook instead of the plan's (or the generated) one.") var runbook: String?
    @Option(name: .long, parsing: .singleValue,
            help: "Mark this unfinished move of the plan aborted (journaled; no compensations run) and start a new one instead of `drctl resume RUN` (repeatable).")
    var abandon: [String] = []

    var planPath: String {
        plan ?? ProcessInfo.processInfo.environment["DRCTL_PLAN"] ?? "drplan.yaml"
    }
}
