import Foundation

/// Which runs in the store are a plan's drills. A drill run is a run record with mode "drill"
/// that belongs to the plan: its lock scope is `plan:NAME` or `drill:NAME`, or its input `plan`
/// is NAME. (A store may be shared by several plans.)
public enum DrillHistory {
    /// How many recent runs are examined; drills are rare next to other runs, so look far back.
    public static let lookBack = 100_000

    public static func isDrill(_ run: RunRecord, ofPlan plan: String) -> Bool {
        guard run.mode == "drill" else { return false }
        if run.lockScope == "plan:\(plan)" || run.lockScope == "drill:\(plan)" { return true }
        if case .string(let name)? = run.inputs["plan"], name == plan { return true }
        return false
    }

    /// The plan's newest drill (any status), and its newest successful one, as the store stood
    /// at `instant`: a drill whose record was last written after it (finished, or still running,
    /// later) is not on record yet — the store is not a time machine, so its state at `instant`
    /// is unknown and it is left out rather than shown with a future finish.
    public static func latest(in store: any StateStore, plan: String, asOf instant: Date? = nil) async throws
        -> (last: RunRecord?, lastSuccess: RunRecord?) {
        let drills = try await store.runs(status: nil, limit: lookBack)
            .filter { run in isDrill(run, ofPlan: plan) && instant.map { run.updatedAt <= $0 } ?? true }
        let last = drills.max { $0.createdAt < $1.createdAt }
        // The newest success by when it finished: that is when its evidence exists.
        let lastSuccess = drills.filter { $0.status == .succeeded }.max { $0.updatedAt < $1.updatedAt }
        return (last, lastSuccess)
    }
}
