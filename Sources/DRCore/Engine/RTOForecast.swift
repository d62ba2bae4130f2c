/// RTO arithmetic: the forecast is elapsed time plus the longest chain (critical path) of the
/// estimates of steps not yet finished, following `needs`. Pure.
public enum RTOForecast {
    /// - Parameters:
    ///   - estimates: seconds per step id (history p90 where known, else the runbook's `estimate`).
    ///   - finished: steps already done (their time is in `elapsed`).
    public static func remainingCriticalPath(steps: [RunbookStep], estimates: [String: Double], finished: Set<String>) -> Double {
        var memo: [String: Double] = [:]
        let byId = Dictionary(steps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        func longest(to id: String, depth: Int) -> Double {
            if let known = memo[id] { return known }
            guard depth < 10_000, let step = byId[id] else { return 0 }
            let own = finished.contains(id) ? 0 : (estimates[id] ?? 0)
            let before = step.needs.map { longest(to: $0, depth: depth + 1) }.max() ?? 0
            memo[id] = before + own
            return before + own
        }
        return steps.map { longest(to: $0.id, depth: 0) }.max() ?? 0
    }

    /// Steps grouped into waves that can run in parallel (each wave needs only earlier waves).
    public static func parallelGroups(_ steps: [RunbookStep]) -> [[String]] {
        var level: [String: Int] = [:]
        let byId = Dictionary(steps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        func depth(_ id: String, _ guardDepth: Int) -> Int {
            if let known = level[id] { return known }
            guard guardDepth < 10_000, let step = byId[id] else { return 0 }
            let value = (step.needs.map { depth($0, guardDepth + 1) }.max() ?? -1) + 1
            level[id] = value
            return value
        }
        for step in steps { _ = depth(step.id, 0) }
        let maxLevel = level.values.max() ?? -1
        guard maxLevel >= 0 else { return [] }
        return (0...maxLevel).map { wave in steps.filter { level[$0.id] == wave }.map(\.id) }
    }
}
