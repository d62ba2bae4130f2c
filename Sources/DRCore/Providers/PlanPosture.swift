import Foundation

/// The RPO posture of a whole plan, across providers.
public enum PlanPosture {
    /// Every provider's posture probes at once (`drctl status`); resources in provider order.
    public static func measure(_ plan: DRPlan, providers: [any DRProvider], now: Date) async -> [ProtectedResourcePosture] {
        let found = await withTaskGroup(of: (Int, [ProtectedResourcePosture]).self) { group in
            for (index, provider) in providers.enumerated() { group.addTask { (index, await provider.posture(plan: plan, now: now)) } }
            var found: [Int: [ProtectedResourcePosture]] = [:]
            for await (index, resources) in group { found[index] = resources }
            return found
        }
        return providers.indices.flatMap { found[$0] ?? [] }
    }
}
