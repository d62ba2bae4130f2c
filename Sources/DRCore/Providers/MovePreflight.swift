import Foundation

/// The read-only checks before a failover or switchover, across every provider of the plan: each
/// provider's preflight runs at once (one round trip of latency for the whole plan), the findings
/// are merged in provider order, and the expected data loss is the largest loss any of them
/// signals — unknown when any source of loss is unknown. Never changes anything.
public enum MovePreflight {
    public struct Report: Sendable, Encodable {
        public var checks: [PreflightCheck] = []
        /// Seconds of data the move would lose; nil when some source of loss is unknown.
        public var expectedDataLoss: Double?
        public var unknownLossReasons: [String] = []

        public init(checks: [PreflightCheck] = [], expectedDataLoss: Double? = nil, unknownLossReasons: [String] = []) {
            self.checks = checks
            self.expectedDataLoss = expectedDataLoss
            self.unknownLossReasons = unknownLossReasons
        }

        public var blockers: [String] { checks.filter { !$0.ok && $0.blocking }.map { "\($0.name): \($0.detail)" } }

        /// The preflight as the journal keeps it (and `resume`'s summary reads it back).
        public func journalDetail(plan: DRPlan, from: Site, to: Site) -> [String: RunValue] {
            [
                "event": .string("preflight"), "plan": .string(plan.name), "plan_digest": .string(plan.source.digest),
                "from": .string(from.description), "to": .string(to.description),
                "expected_data_loss": expectedDataLoss.map { .duration($0) } ?? .null,
                "checks": .list(checks.map { .map(["name": .string($0.name), "ok": .bool($0.ok), "detail": .string($0.detail), "blocking": .bool($0.blocking)]) }),
            ]
        }
    }

    public static func run(_ move: Move, plan: DRPlan, providers: [any DRProvider]) async -> Report {
        let found = await providers.concurrentMap { await $0.preflight(move, plan: plan) }
        var report = Report()
        var losses: [Double] = []
        for findings in found {
            report.checks += findings.checks
            report.unknownLossReasons += findings.unknownLossReasons
            losses += findings.losses
        }
        report.expectedDataLoss = report.unknownLossReasons.isEmpty ? (losses.max() ?? 0) : nil
        return report
    }

    /// Every provider's look-ups before a runbook can be written (`DRProvider.prepare`), in
    /// registration order: each may fill in the plan the next one sees.
    public static func prepare(_ move: Move, plan: DRPlan, providers: [any DRProvider]) async throws -> (plan: DRPlan, warnings: [PreflightCheck]) {
        var prepared = plan, warnings: [PreflightCheck] = []
        for provider in providers {
            let (next, more) = try await provider.prepare(move, plan: prepared)
            prepared = next
            warnings += more
        }
        return (prepared, warnings)
    }
}
