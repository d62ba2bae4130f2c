import DRCore
import Foundation

/// `aws.rds.failover-global-cluster` and `aws.rds.switchover-global-cluster`: make the target
/// member cluster the writer of an Aurora global database. Observe/verify: DescribeGlobalClusters
/// shows the target as the writer.
struct RDSGlobalClusterAction: RunbookAction {
    enum Kind { case failover, switchover }

    let rds: RDSClient
    let kind: Kind
    let isMutating = true

    var name: String { kind == .failover ? "aws.rds.failover-global-cluster" : "aws.rds.switchover-global-cluster" }
    var summary: String {
        kind == .failover
            ? "Fails an Aurora global database over to a secondary cluster (allowing data loss) and waits until that cluster is the writer."
            : "Switches an Aurora global database over to a secondary cluster without data loss and waits until that cluster is the writer."
    }
    var permissions: [ActionPermission] {
        [.aws("rds:DescribeGlobalClusters"), .aws(kind == .failover ? "rds:FailoverGlobalCluster" : "rds:SwitchoverGlobalCluster")]
    }

    var parameters: [ActionCatalog.Parameter] {
        var list: [ActionCatalog.Parameter] = [
            RDSActions.region, .init("global_cluster", .string, required: true), .init("target_cluster_arn", .string, required: true),
        ]
        if kind == .failover { list.append(.init("allow_data_loss", .bool)) }
        return list
    }

    func describe(_ arguments: [String: RunValue]) -> String {
        let call = kind == .failover ? "FailoverGlobalCluster (AllowDataLoss=\(arguments.argumentText("allow_data_loss", "false")))"
                                     : "SwitchoverGlobalCluster"
        return "\(call) of \(arguments.argumentText("global_cluster")) to \(arguments.argumentText("target_cluster_arn")) via "
            + "\(arguments.argumentText("region")), then DescribeGlobalClusters until it is the writer"
    }

    private func target(_ invocation: ActionInvocation) throws -> (region: String, global: String, target: String) {
        let arguments = RDSArguments(invocation)
        return (try arguments.string("region"), try arguments.string("global_cluster"), try arguments.string("target_cluster_arn"))
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let (region, global, target) = try target(invocation)
        return try await RDSActions.mapped {
            guard let cluster = try await rds.describeGlobalCluster(region: region, identifier: global, deadline: invocation.deadline),
                  cluster.writerClusterArn == target, cluster.failoverStatus == nil else { return nil }
            return Self.outputs(cluster)
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let (region, global, target) = try target(invocation)
        let allowDataLoss = try RDSArguments(invocation).bool("allow_data_loss") ?? false
        return try await RDSActions.mapped {
            switch kind {
            case .failover:
                _ = try await rds.failoverGlobalCluster(region: region, globalCluster: global, targetClusterArn: target,
                                                        allowDataLoss: allowDataLoss, deadline: invocation.deadline)
            case .switchover:
                _ = try await rds.switchoverGlobalCluster(region: region, globalCluster: global, targetClusterArn: target,
                                                          deadline: invocation.deadline)
            }
            return [:]
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let (region, global, target) = try target(invocation)
        let rds = self.rds
        let waiter = Waiter<GlobalCluster?>(what: "\(target) to be the writer of \(global)", minimumDelay: 2, maximumDelay: 20,
                                            clock: invocation.services.clock) { cluster in
            guard let cluster else { return .failure("global cluster \(global) does not exist") }
            return cluster.writerClusterArn == target && cluster.failoverStatus == nil ? .success : .retry
        }
        do {
            let cluster = try await RDSActions.mapped {
                try await waiter.wait(until: invocation.deadline) {
                    try await rds.describeGlobalCluster(region: region, identifier: global, deadline: invocation.deadline)
                }
            }
            return Self.outputs(cluster!)
        } catch let error as Waiter<GlobalCluster?>.TimedOut {
            throw ActionError(.timeout, error.description)
        } catch let error as Waiter<GlobalCluster?>.Failed {
            throw ActionError(.permanent, error.description)
        }
    }

    static func outputs(_ cluster: GlobalCluster) -> [String: RunValue] {
        ["global_cluster": .string(cluster.identifier), "writer_cluster_arn": cluster.writerClusterArn.map(RunValue.string) ?? .null]
    }
}
