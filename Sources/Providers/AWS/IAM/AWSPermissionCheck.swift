import DRCore
import Foundation

/// The preflight's permission check: every call the move's runbook will make (its permission
/// needs, as `drctl iam policy` computes them) asked of IAM's policy simulator for the caller,
/// with the request context drctl's calls carry (requested region, tags). A denial is a warning
/// naming the permission, the resource and the step, not a blocker: the simulator sees no SCP of
/// another account, no session policy, and conditions it is not given — an emergency move must
/// not be stopped by a simulation. No simulation (no permission for it, a role with a path) is a
/// warning that says so, never a silent pass.
struct AWSPermissionCheck {
    static let name = "permissions (IAM policy simulator)"
    /// ARNs per simulation call: the request stays small whatever the plan's size.
    static let resourcesPerCall = 50

    let provider: AWSCloudProvider

    /// IAM answers from us-east-1 only: when that is the region being left, the check gives up
    /// after this long instead of holding the move's preflight for the client's retries.
    static let deadline = 15.0

    func run(_ move: Move, plan: DRPlan, runbook: Runbook) async -> [PreflightCheck] {
        await withTaskGroup(of: [PreflightCheck]?.self) { group in
            group.addTask { await simulate(move, plan: plan, runbook: runbook) }
            group.addTask {
                try? await Task.sleep(for: .seconds(Self.deadline))
                return Task.isCancelled ? nil : [warning("not simulated: IAM (us-east-1) did not answer within \(DurationText.format(Self.deadline))")]
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? [warning("not simulated")]
        }
    }

    private func simulate(_ move: Move, plan: DRPlan, runbook: Runbook) async -> [PreflightCheck] {
        let aws = AWSPlanSectionKind.cloud
        let region = move.to.cloud == aws ? move.to.region : move.from.cloud == aws ? move.from.region : "us-east-1"
        let caller: STSClient.CallerIdentity
        do {
            caller = try await STSClient(client: provider.client).getCallerIdentity(region: region)
        } catch {
            return [warning("not simulated: the caller is unknown (\(error))")]
        }
        guard let principal = IAMClient.principal(ofCaller: caller.arn) else {
            return [PreflightCheck(name: Self.name, ok: true, detail: "not simulated for \(caller.arn): no identity policy limits it", blocking: false)]
        }
        let needs: [PermissionNeed]
        do {
            let request = PermissionRequest(purpose: move.kind == .failover ? .failover : .switchover, plan: plan,
                                            moves: [(move, runbook)], account: caller.account)
            needs = try provider.permissionNeeds(request).filter { $0.provider == provider.name }
        } catch {
            return [warning("not simulated: the permissions of this move could not be listed (\(error))")]
        }
        // One simulation per set of resources and context: the permissions that share them.
        struct Group: Hashable { let resources: [String]; let conditions: [PermissionCondition] }
        var groups: [Group: (permissions: Set<String>, steps: [String: String])] = [:]
        for need in needs {
            let key = Group(resources: need.resources.sorted(), conditions: need.conditions.sorted())
            groups[key, default: ([], [:])].permissions.insert(need.permission)
            groups[key]!.steps[need.permission] = groups[key]!.steps[need.permission] ?? need.step
        }
        let iam = IAMClient(client: provider.client)
        var denied: [String] = [], simulated = 0
        do {
            for (group, entry) in groups.sorted(by: { $0.key.resources.joined() < $1.key.resources.joined() }) {
                let context = group.conditions.map { IAMClient.ContextEntry(key: $0.key, values: $0.values.map(Self.sample)) }
                let chunks = group.resources.isEmpty || group.resources == ["*"] ? [[]]
                    : stride(from: 0, to: group.resources.count, by: Self.resourcesPerCall).map { Array(group.resources[$0..<min($0 + Self.resourcesPerCall, group.resources.count)]) }
                for chunk in chunks {
                    let decisions = try await iam.simulatePrincipalPolicy(principal: principal, actions: entry.permissions.sorted(),
                                                                          resources: chunk, context: context)
                    simulated += decisions.count
                    for decision in decisions where !decision.allowed {
                        denied.append("\(decision.action) on \(decision.resource) (step \(entry.steps[decision.action] ?? "?"))")
                    }
                }
            }
        } catch {
            return [warning("not simulated for \(principal): \(error) — grant iam:SimulatePrincipalPolicy on it for this check")]
        }
        if denied.isEmpty {
            return [PreflightCheck(name: Self.name, ok: true, detail: "\(principal) may make every call of this move (\(simulated) simulated)", blocking: false)]
        }
        let shown = denied.sorted().prefix(10).joined(separator: "; ") + (denied.count > 10 ? "; and \(denied.count - 10) more" : "")
        return [warning("\(principal) would be denied \(denied.count) of \(simulated): \(shown) — see `drctl iam policy --for \(move.kind.rawValue)`")]
    }

    private func warning(_ detail: String) -> PreflightCheck {
        PreflightCheck(name: Self.name, ok: false, detail: detail, blocking: false)
    }

    /// A value that matches a condition's pattern (`run-*` → `run-0`), for the request context.
    static func sample(_ pattern: String) -> String {
        pattern.replacingOccurrences(of: "*", with: "0").replacingOccurrences(of: "?", with: "0")
    }
}

extension AWSCloudProvider {
    public func permissionChecks(_ move: Move, plan: DRPlan, runbook: Runbook) async -> [PreflightCheck] {
        // Nothing of AWS in this move: no call (no credentials needed).
        guard plan.aws.hasWork(from: move.from, to: move.to) else { return [] }
        return await AWSPermissionCheck(provider: self).run(move, plan: plan, runbook: runbook)
    }
}
