import AWSProvider
import AzureProvider
import DRCore
import GCPProvider
import PostgresProvider

/// The DR plan loader. An error is located like a runbook's; an accepted plan has values in range
/// and real region names, and every runbook drctl generates from it (failover, switchover, drill)
/// is itself a valid runbook — composed as a value, rendered, and read back by the loader — — or the generator refuses with a message, never a trap.
enum PlanFuzzTarget {
    static let target = FuzzTarget(name: "plan") { bytes in
        do throws(RunbookValidationError) {
            let plan = try DRPlanLoader.parse(bytes: bytes, path: "drplan.yaml", sections: sections)
            checkAccepted(plan)
        } catch {
            requireLocated(error, in: bytes)
        }
    }

    static func checkAccepted(_ plan: DRPlan) {
        requireDurationInRange(plan.budgets.rpo, "budgets.rpo")
        requireDurationInRange(plan.budgets.rto, "budgets.rto")
        requireDurationInRange(plan.drill.maxRuntime, "drills.max_runtime")
        for site in plan.sites where site.cloud == "aws" { require(isRegionName(site.region), "accepted the region name '\(site.region)'") }
        for database in plan.aws.databases {
            require(database.backupRetentionDays >= 0 && database.backupRetentionDays <= 35,
                    "accepted backup_retention_days \(database.backupRetentionDays)")
        }
        for record in plan.aws.records {
            require(record.ttl >= 0 && record.ttl <= 2_147_483_647, "accepted ttl \(record.ttl)")
        }
        for standby in plan.aws.standby.values {
            for group in standby.eksNodegroups {
                require(group.min >= 0 && group.min <= group.desired && group.desired <= group.max,
                        "accepted nodegroup sizes min \(group.min) desired \(group.desired) max \(group.max)")
            }
        }

        for kind in [Move.Kind.failover, .switchover] {
            for to in plan.drSites {
                let move = Move(kind: kind, from: plan.primarySite, to: to)
                guard let runbook = try? composer.runbook(plan: plan, move: move, catalog: ActionCatalogs.full) else { continue }
                requireValidGeneratedRunbook(RunbookRenderer.render(runbook), "\(kind.rawValue) runbook to \(to)")
            }
        }
        if let site = plan.drSite, let drill = try? DrillComposer.make(plan: plan, site: site, runId: "run-fuzz", providers: ActionCatalogs.providers,
                                                                       available: ActionCatalogs.fullNames) {
            requireValidGeneratedRunbook(RunbookRenderer.render(drill.runbook), "drill runbook")
            require(drill.estimate.isFinite && drill.estimate >= 0, "drill estimate \(drill.estimate)")
        }
    }

    static let sections: [any PlanSectionKind] = [AWSPlanSectionKind(), PostgresPlanSectionKind(), GCPPlanSectionKind(), AzurePlanSectionKind()]
    static let composer = MoveComposer(providers: ActionCatalogs.providers)

    private static func requireValidGeneratedRunbook(_ text: String, _ what: String) {
        do {
            let runbook = try RunbookLoader.parse(text: text, path: "generated.yaml", catalog: ActionCatalogs.full)
            RunbookFuzzTarget.checkAccepted(runbook)
        } catch {
            require(false, "the \(what) generated from an accepted plan is invalid: \(error)\n\(text)")
        }
    }

    /// `us-east-1`, `ap-southeast-2`, `us-gov-west-1`: ASCII lower-case words and a number.
    static func isRegionName(_ name: String) -> Bool {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, let last = parts.last, !last.isEmpty, last.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        return parts.dropLast().allSatisfy { part in !part.isEmpty && part.allSatisfy { $0.isASCII && $0.isLowercase } }
    }
}
