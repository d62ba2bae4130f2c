import DRCore
import Foundation

/// The GKE (container v1) calls of `gcp.gke.scale-node-pool`
/// (https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters.nodePools).
public struct GKEClient: Sendable {
    let source: GCPClientSource

    public init(source: GCPClientSource) {
        self.source = source
    }

    struct NodePool: Sendable, Decodable {
        struct Autoscaling: Sendable, Decodable {
            let enabled: Bool?
            let minNodeCount: Int?
            let maxNodeCount: Int?
        }
        let name: String
        /// PROVISIONING, RUNNING, RUNNING_WITH_ERROR, RECONCILING, STOPPING, ERROR.
        let status: String?
        let autoscaling: Autoscaling?
    }

    struct Cluster: Sendable, Decodable {
        let name: String
        let status: String?
        let currentNodeCount: Int?
    }

    static func clusterName(_ project: String, _ location: String, _ cluster: String) -> String {
        "projects/\(GCPPath.segment(project))/locations/\(GCPPath.segment(location))/clusters/\(GCPPath.segment(cluster))"
    }

    func cluster(project: String, location: String, cluster: String, deadline: Date?) async throws -> Cluster {
        try await source.client().call(GCPRequest(service: .container, methodId: "container.projects.locations.clusters.get", httpMethod: "GET",
                                                  path: "v1/" + Self.clusterName(project, location, cluster)), as: Cluster.self, deadline: deadline)
    }

    func pool(project: String, location: String, cluster: String, pool: String, deadline: Date?) async throws -> NodePool {
        try await source.client().call(GCPRequest(service: .container, methodId: "container.projects.locations.clusters.nodePools.get", httpMethod: "GET",
                                                  path: "v1/" + Self.clusterName(project, location, cluster) + "/nodePools/\(GCPPath.segment(pool))"),
                                       as: NodePool.self, deadline: deadline)
    }

    /// `nodePools.setSize`: setting the same size twice is setting it once, so it may be resent.
    func setSize(project: String, location: String, cluster: String, pool: String, nodeCount: Int, deadline: Date?) async throws -> GCPOperation {
        struct Body: Encodable, Sendable { let nodeCount: Int }
        let path = "v1/" + Self.clusterName(project, location, cluster) + "/nodePools/\(GCPPath.segment(pool)):setSize"
        return try await source.client().call(try GCPRequest(service: .container, methodId: "container.projects.locations.clusters.nodePools.setSize",
                                                             httpMethod: "POST", path: path, json: Body(nodeCount: nodeCount), isIdempotent: true),
                                              as: GCPOperation.self, deadline: deadline)
    }

    func setAutoscaling(project: String, location: String, cluster: String, pool: String, min: Int, max: Int, deadline: Date?) async throws -> GCPOperation {
        struct Body: Encodable, Sendable {
            struct Autoscaling: Encodable, Sendable { let enabled = true; let minNodeCount: Int; let maxNodeCount: Int }
            let autoscaling: Autoscaling
        }
        let path = "v1/" + Self.clusterName(project, location, cluster) + "/nodePools/\(GCPPath.segment(pool)):setAutoscaling"
        return try await source.client().call(try GCPRequest(service: .container, methodId: "container.projects.locations.clusters.nodePools.setAutoscaling",
                                                             httpMethod: "POST", path: path, json: Body(autoscaling: .init(minNodeCount: min, maxNodeCount: max)),
                                                             isIdempotent: true),
                                              as: GCPOperation.self, deadline: deadline)
    }

    /// Waits for a GKE operation (`projects/P/locations/L/operations/NAME`).
    func wait(_ operation: GCPOperation, project: String, location: String, what: String, clock: any EngineClock, until deadline: Date) async throws {
        guard let name = operation.name else { throw GCPResponseError(method: "container", detail: "an operation without a name") }
        let path = "v1/projects/\(GCPPath.segment(project))/locations/\(GCPPath.segment(location))/operations/\(GCPPath.segment(name))"
        _ = try await GCPOperationWaiter(what: what, clock: clock).wait(for: operation, until: deadline) {
            try await self.source.client().call(GCPRequest(service: .container, methodId: "container.projects.locations.operations.get",
                                                           httpMethod: "GET", path: path), as: GCPOperation.self, deadline: deadline)
        }
    }
}
