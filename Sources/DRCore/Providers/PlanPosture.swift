import Foundation

/// The RPO posture of a whole plan, across providers.
public enum PlanPosture {
    /// Every provider's posture probes at once (`drctl status`); resources in provider order.
    public static func measure(_ plan: DRPlan, providers: [any DRProvider], now: Date) async -> [ProtectedResourcePosture] {
        await providers.concurrentMap { await $0.posture(plan: plan, now: now) }.flatMap { $0 }
    }
}
