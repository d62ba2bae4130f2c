import ArgumentParser

@main
struct DRCTL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drctl",
        abstract: "Backup and disaster-recovery orchestrator: runbooks, failovers, drills, RPO/RTO.",
        version: DRCTLVersion.string,
        subcommands: []
    )
}

enum DRCTLVersion {
    static let string = "0.1.0"
}
