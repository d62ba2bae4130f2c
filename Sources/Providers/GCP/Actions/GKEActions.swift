import DRCore
import Foundation

/// `gcp.gke.scale-node-pool`: brings a standby GKE node pool up (or down) — autoscaling limits
/// first when given (`setAutoscaling`), then the size (`setSize`) — waiting for each operation,
/// then until the pool and the cluster are RUNNING again (GKE reconciles the pool's instance
/// groups until the nodes are there).
///
/// GKE runs one operation per cluster at a time (400 FAILED_PRECONDITION "incompatible
/// operation"): the action waits for the pool to settle and calls again, within the step's deadline.
/// Both calls set absolute values, so a retry or resume simply sets them again.
struct GKEScaleNodePoolAction: RunbookAction {
    let gke: GKEClient
    let name = "gcp.gke.scale-node-pool"
    let summary = "Sets a GKE node pool's size (and optionally its autoscaling limits), waits for the operations and until the pool is RUNNING. Outputs: pool, node_count, min_nodes, max_nodes, cluster_node_count, status."
    let permissions: [ActionPermission] = [
        .gcp("container.clusters.update", method: "container.projects.locations.clusters.nodePools.setSize"),
        .gcp("container.clusters.update", method: "container.projects.locations.clusters.nodePools.setAutoscaling", note: "with min_nodes/max_nodes"),
        .gcp("container.clusters.get", method: "container.projects.locations.clusters.get"),
        .gcp("container.clusters.get", method: "container.projects.locations.clusters.nodePools.get"),
        .gcp("container.operations.get", method: "container.projects.locations.operations.get"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        GCPActions.project, GCPActions.name("location", help: "the cluster's region or zone"),
        GCPActions.name("cluster"), GCPActions.name("pool"),
        .init("node_count", .int, required: true, help: "nodes per zone of the pool (GKE's setSize)", check: .atLeast(0)),
        .init("min_nodes", .int, help: "autoscaling minimum (with max_nodes)", check: .atLeast(0)),
        .init("max_nodes", .int, help: "autoscaling maximum (with min_nodes)", check: .atLeast(1)),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        let pool = "node pool \(arguments.argumentText("pool")) of cluster \(arguments.argumentText("cluster")) in \(arguments.argumentText("location")) (project \(arguments.argumentText("project")))"
        let autoscaling = arguments["min_nodes"] != nil ? "setAutoscaling min \(arguments.argumentText("min_nodes")) max \(arguments.argumentText("max_nodes")), then " : ""
        return "\(autoscaling)setSize \(arguments.argumentText("node_count")) on \(pool), waiting for each operation, then until the pool is RUNNING"
    }

    struct Request {
        let project, location, cluster, pool: String
        let nodeCount: Int
        let limits: (min: Int, max: Int)?
    }

    func request(_ invocation: ActionInvocation) throws -> Request {
        let arguments = GCPArguments(invocation)
        guard let count = try arguments.int("node_count"), count >= 0 else { throw arguments.invalid("node_count", "an integer >= 0") }
        let min = try arguments.int("min_nodes"), max = try arguments.int("max_nodes")
        var limits: (Int, Int)?
        switch (min, max) {
        case (nil, nil): limits = nil
        case let (min?, max?):
            guard min >= 0, max > 0, min <= max else { throw ActionError(.permanent, "min_nodes and max_nodes must satisfy 0 <= min_nodes <= max_nodes, max_nodes > 0") }
            guard (min...max).contains(count) else { throw ActionError(.permanent, "node_count \(count) lies outside min_nodes..max_nodes (\(min)...\(max))") }
            limits = (min, max)
        default: throw ActionError(.permanent, "min_nodes and max_nodes go together")
        }
        return Request(project: try arguments.name("project"), location: try arguments.name("location"), cluster: try arguments.name("cluster"),
                       pool: try arguments.name("pool"), nodeCount: count, limits: limits)
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let request = try request(invocation)
        let clock = invocation.services.clock, deadline = invocation.deadline
        let what = "node pool \(request.pool) of \(request.cluster)"
        return try await GCPActions.mapped(permissions) {
            if let limits = request.limits {
                let operation = try await whenClusterFree(request, invocation) {
                    try await gke.setAutoscaling(project: request.project, location: request.location, cluster: request.cluster, pool: request.pool,
                                                 min: limits.min, max: limits.max, deadline: deadline)
                }
                try await gke.wait(operation, project: request.project, location: request.location, what: "autoscaling of \(what)", clock: clock, until: deadline)
            }
            let operation = try await whenClusterFree(request, invocation) {
                try await gke.setSize(project: request.project, location: request.location, cluster: request.cluster, pool: request.pool,
                                      nodeCount: request.nodeCount, deadline: deadline)
            }
            try await gke.wait(operation, project: request.project, location: request.location, what: "resize of \(what)", clock: clock, until: deadline)
            return [:]
        }
    }

    /// Calls `body`; while GKE says another operation runs on the cluster, waits until the pool is
    /// RUNNING and the cluster not RECONCILING, and calls again.
    private func whenClusterFree(_ request: Request, _ invocation: ActionInvocation,
                                 _ body: @escaping @Sendable () async throws -> GCPOperation) async throws -> GCPOperation {
        let gke = self.gke
        return try await Waiter<GCPOperation?>(what: "cluster \(request.cluster) to accept a change of \(request.pool)", minimumDelay: 2, maximumDelay: 15,
                                               clock: invocation.services.clock) { $0 == nil ? .retry : .success }
            .wait(until: invocation.deadline) {
                do {
                    return try await body()
                } catch let error as GCPServiceError where error.category == .conflict {
                    return nil
                }
            }!
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let request = try request(invocation)
        let gke = self.gke, deadline = invocation.deadline
        return try await GCPActions.mapped(permissions) {
            let pool = try await Waiter<GKEClient.NodePool>(what: "node pool \(request.pool) of \(request.cluster) to be RUNNING", minimumDelay: 2,
                                                            maximumDelay: 15, clock: invocation.services.clock) { pool in
                switch pool.status {
                case "RUNNING"?: return .success
                case "ERROR"?, "RUNNING_WITH_ERROR"?: return .failure("the pool is \(pool.status ?? "")")
                default: return .retry
                }
            }.wait(until: deadline) {
                try await gke.pool(project: request.project, location: request.location, cluster: request.cluster, pool: request.pool, deadline: deadline)
            }
            let cluster = try await gke.cluster(project: request.project, location: request.location, cluster: request.cluster, deadline: deadline)
            return ["pool": .string(pool.name), "node_count": .int(request.nodeCount), "status": pool.status.map(RunValue.string) ?? .null,
                    "min_nodes": request.limits.map { .int($0.min) } ?? .null, "max_nodes": request.limits.map { .int($0.max) } ?? .null,
                    "cluster_node_count": cluster.currentNodeCount.map(RunValue.int) ?? .null]
        }
    }
}
