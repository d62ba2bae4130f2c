import DRCore

/// The DR plan loader. An error is located like a runbook's; an accepted plan has values in range
/// and real region names, and every runbook drctl generates from it (failover, switchover, drill)
/// is itself a valid runbook — or the generator refuses with a message, never a trap.
enum PlanFuzzTarget {
    static let target = FuzzTarget(name: "plan") { bytes in
        do throws(RunbookValidationError) {
            let plan = try DRPlanLoader.parse(bytes: bytes, path: "drplan.yaml")
            checkAccepted(plan)
        } catch {
            requireLocated(error, in: bytes)
        }
    }

    static func checkAccepted(_ plan: DRPlan) {
        requireDurationInRange(plan.budgets.rpo, "budgets.rpo")
        requireDurationInRange(plan.budgets.rto, "budgets.rto")
        requireDurationInRange(plan.drill.maxRuntime, "drills.max_runtime")
        for region in plan.regions { require(isRegionName(region), "accepted the region name '\(region)'") }
        for database in plan.databases {
            require(database.backupRetentionDays >= 0 && database.backupRetentionDays <= 35,
                    "accepted backup_retention_days \(database.backupRetentionDays)")
        }
        for record in plan.records {
            require(record.ttl >= 0 && record.ttl <= 2_147_483_647, "accepted ttl \(record.ttl)")
        }
        for standby in plan.standby.values {
            for group in standby.eksNodegroups {
                require(group.min >= 0 && group.min <= group.desired && group.desired <= group.max,
                        "accepted nodegroup sizes min \(group.min) desired \(group.desired) max \(group.max)")
            }
        }

        for kind in [FailoverRunbookGenerator.Kind.failover, .switchover] {
            guard let text = try? FailoverRunbookGenerator.yaml(plan: plan, kind: kind, from: plan.primaryRegion, to: plan.drRegion) else { continue }
            requireValidGeneratedRunbook(text, "\(kind.rawValue) runbook")
        }
        if let drill = try? DrillRunbookGenerator.make(plan: plan, region: plan.drRegion, runId: "run-fuzz",
                                                       available: ActionCatalogs.fullNames) {
            requireValidGeneratedRunbook(drill.text, "drill runbook")
            require(drill.estimate.isFinite && drill.estimate >= 0, "drill estimate \(drill.estimate)")
        }
    }

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
