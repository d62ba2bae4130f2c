import AWSProvider
import ArgumentParser
import DRCore
import Foundation

/// `drctl drill cleanup`: finds what drills left behind (DB instances and snapshots tagged
/// `drctl:drill`) in the plan's regions, lists it, and deletes it — instances first (without a
/// final snapshot), then snapshots. Resources of a drill that is still running (its lease is
/// held) are left alone. Asks at a terminal unless `--yes`; without a terminal it needs `--yes`.
struct DrillCleanupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Find drill leftovers by tag (drctl:drill) in the plan's regions and delete them.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateOptions

    @Option(name: .long, help: "The DR plan (default: $DRCTL_PLAN, else ./drplan.yaml).") var plan: String?
    @Option(name: .long, help: "Only this region (default: every region of the plan).") var region: String?
    @Option(name: .long, help: "Named profile from the AWS config/credentials files (default: AWS_PROFILE).") var profile: String?
    @Flag(name: .long, help: "Only leftovers of this plan (tag drctl:plan), not of every plan's drills.") var onlyThisPlan = false
    @Flag(name: .long, help: "Delete without asking.") var yes = false
    @Flag(name: .long, help: "List what would be deleted, and stop.") var dryRun = false

    var planPath: String { plan ?? ProcessInfo.processInfo.environment["DRCTL_PLAN"] ?? "drplan.yaml" }

    struct Leftover: Encodable {
        let kind: String   // "instance" | "snapshot"
        let region: String
        let identifier: String
        let drill: String
        let plan: String?
        let status: String
        var deleted: Bool? = nil
        var error: String? = nil
    }

    func run() async throws {
        try global.bootstrapLogging()
        let plan = try DRPlanLoader.load(path: planPath, sections: ProviderRegistration.sections)
        let regions = region.map { [$0] } ?? plan.aws.regions.union(plan.sites.filter { $0.cloud == "aws" }.map(\.region)).sorted()
        let aws = try AWSContext(profile: profile, region: nil)
        let rds = RDSClient(client: aws.client)

        var found: [Leftover] = []
        for region in regions {
            for instance in try await rds.describeDBInstances(region: region) {
                guard let leftover = Self.leftover("instance", region: region, identifier: instance.identifier, status: instance.status,
                                                   tags: instance.tags) else { continue }
                found.append(leftover)
            }
            for snapshot in try await rds.describeDBSnapshots(region: region, snapshotType: "manual") {
                guard let leftover = Self.leftover("snapshot", region: region, identifier: snapshot.identifier, status: snapshot.status,
                                                   tags: snapshot.tags) else { continue }
                found.append(leftover)
            }
        }
        if onlyThisPlan { found = found.filter { $0.plan == plan.name } }
        // A drill still running keeps its copies: its own teardown deletes them.
        let store = try? state.openStore()
        var running: Set<String> = []
        for drill in Set(found.map(\.drill)) {
            if let record = try? await store?.run(drill), let holder = try? await store?.lease(scope: record.lockScope),
               holder.runId == drill, holder.expiresAt > Date() {
                running.insert(drill)
            }
        }
        let skipped = found.filter { running.contains($0.drill) }
        found = found.filter { !running.contains($0.drill) }

        if global.output == .text {
            if found.isEmpty { print("no drill leftovers in \(regions.joined(separator: ", "))") }
            for item in found {
                print("\(item.kind) \(item.identifier) in \(item.region) (\(item.status); drill \(item.drill)\(item.plan.map { ", plan \($0)" } ?? ""))")
            }
            for item in skipped { print("skipped \(item.kind) \(item.identifier): drill \(item.drill) is still running") }
        }
        guard !found.isEmpty, !dryRun else {
            if global.output == .json { try JSONOutput.print(found) }
            return
        }
        if !yes {
            guard TerminalPrompter.hasTerminal else {
                throw RunEnded(status: .usage, message: "found \(found.count) drill leftovers: pass --yes to delete them when there is no terminal to confirm at")
            }
            FileHandle.standardOutput.write(Data("Delete these \(found.count) drill resources? Type yes to proceed: ".utf8))
            guard await TerminalPrompter.readLine(interruption: InterruptionFlag())?.trimmingCharacters(in: .whitespaces) == "yes" else {
                throw RunEnded(status: .usage, message: "nothing deleted: confirmation not given")
            }
        }

        let waiters = RDSWaiters(rds: rds)
        let deadline = Date().addingTimeInterval(3600)
        var results: [Leftover] = []
        // Instances first (a snapshot may be the source of one being restored), then snapshots.
        for var item in found.filter({ $0.kind == "instance" }) + found.filter({ $0.kind == "snapshot" }) {
            do {
                if item.kind == "instance" {
                    if item.status != "deleting" {
                        if !["available", "stopped", "failed", "storage-full", "incompatible-restore", "incompatible-parameters"].contains(item.status) {
                            _ = try? await waiters.instanceSettled(region: item.region, identifier: item.identifier, until: deadline)
                        }
                        do {
                            _ = try await rds.deleteDBInstance(region: item.region, identifier: item.identifier, finalSnapshot: .skip, deadline: deadline)
                        } catch let error as AWSServiceError where error.code.hasPrefix("DBInstanceNotFound") {}
                    }
                    try await waiters.instanceDeleted(region: item.region, identifier: item.identifier, until: deadline)
                } else {
                    if ["creating", "copying", "pending"].contains(item.status) {
                        _ = try? await waiters.snapshotAvailable(region: item.region, snapshot: item.identifier, until: deadline)
                    }
                    do {
                        try await rds.deleteDBSnapshot(region: item.region, snapshot: item.identifier, deadline: deadline)
                    } catch let error as AWSServiceError where error.code.hasPrefix("DBSnapshotNotFound") {}
                    try await waiters.snapshotDeleted(region: item.region, snapshot: item.identifier, until: deadline)
                }
                item.deleted = true
                if global.output == .text { print("deleted \(item.kind) \(item.identifier) in \(item.region)") }
            } catch {
                item.deleted = false
                item.error = "\(error)"
                if global.output == .text { print("could not delete \(item.kind) \(item.identifier) in \(item.region): \(error)") }
            }
            results.append(item)
        }
        if global.output == .json { try JSONOutput.print(results) }
        if results.contains(where: { $0.deleted != true }) {
            throw RunEnded(status: .cloudError, message: "some drill leftovers could not be deleted")
        }
    }

    static func leftover(_ kind: String, region: String, identifier: String, status: String, tags: [RDSTag]) -> Leftover? {
        guard let drill = tags.first(where: { $0.key == "drctl:drill" })?.value else { return nil }
        return Leftover(kind: kind, region: region, identifier: identifier, drill: drill,
                        plan: tags.first { $0.key == "drctl:plan" }?.value, status: status)
    }
}
