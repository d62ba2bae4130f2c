import DRCore
import Foundation

/// Subnet, parameter and option groups, tags, and Aurora global clusters.
extension RDSClient {
    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBSubnetGroups.html
    public func describeDBSubnetGroups(region: String, name: String? = nil, deadline: Date? = nil) async throws -> [DBSubnetGroup] {
        try await collectPages { marker in
            let result = try await call("DescribeDBSubnetGroups", region: region, deadline: deadline) {
                $0.set("DBSubnetGroupName", name)
                $0.set("Marker", marker)
            }
            return (result.list("DBSubnetGroups", member: "DBSubnetGroup").map(DBSubnetGroup.init(xml:)), result.string("Marker"))
        }
    }

    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBParameterGroups.html
    public func describeDBParameterGroups(region: String, name: String? = nil, deadline: Date? = nil) async throws -> [DBParameterGroup] {
        try await collectPages { marker in
            let result = try await call("DescribeDBParameterGroups", region: region, deadline: deadline) {
                $0.set("DBParameterGroupName", name)
                $0.set("Marker", marker)
            }
            return (result.list("DBParameterGroups", member: "DBParameterGroup").map(DBParameterGroup.init(xml:)), result.string("Marker"))
        }
    }

    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeOptionGroups.html
    public func describeOptionGroupNames(region: String, name: String? = nil, deadline: Date? = nil) async throws -> [String] {
        try await collectPages { marker in
            let result = try await call("DescribeOptionGroups", region: region, deadline: deadline) {
                $0.set("OptionGroupName", name)
                $0.set("Marker", marker)
            }
            return (result.list("OptionGroupsList", member: "OptionGroup").compactMap { $0.string("OptionGroupName") }, result.string("Marker"))
        }
    }

    /// Whether the named group of `kind` exists in `region`: true, false (RDS says not found).
    /// Concurrent questions about one region and kind are answered by one listing of its groups.
    public func groupExists(_ kind: GroupKind, region: String, name: String, deadline: Date? = nil) async throws -> Bool {
        let scope = GroupScope(kind: kind, region: region)
        if let groupReads { return try await groupReads.read(name, in: scope, deadline: deadline) ?? false }
        return try await groupsPresent(scope, names: [name], deadline: deadline)[name] ?? false
    }

    /// One name: described by name (not found → false). Several: the region's groups listed once.
    func groupsPresent(_ scope: GroupScope, names: [String], deadline: Date?) async throws -> [String: Bool] {
        if names.count == 1, let name = names.first {
            return [name: !(try await groupNames(scope, name: name, deadline: deadline).isEmpty)]
        }
        // Group names are case-insensitive (RDS stores them lower-case).
        let existing = Set(try await groupNames(scope, name: nil, deadline: deadline).map { $0.lowercased() })
        return Dictionary(names.map { ($0, existing.contains($0.lowercased())) }, uniquingKeysWith: { first, _ in first })
    }

    /// The names of the scope's groups: the one named (none when RDS says it is not found), or all
    /// of the region's (a listing never answers not-found: such an answer is an error, not "none").
    private func groupNames(_ scope: GroupScope, name: String?, deadline: Date?) async throws -> [String] {
        do {
            switch scope.kind {
            case .parameter: return try await describeDBParameterGroups(region: scope.region, name: name, deadline: deadline).map(\.name)
            case .subnet: return try await describeDBSubnetGroups(region: scope.region, name: name, deadline: deadline).map(\.name)
            case .option: return try await describeOptionGroupNames(region: scope.region, name: name, deadline: deadline)
            }
        } catch let error as AWSServiceError where error.category == .notFound && name != nil {
            return []
        }
    }

    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_AddTagsToResource.html
    public func addTags(region: String, resourceArn: String, tags: [RDSTag], deadline: Date? = nil) async throws {
        _ = try await call("AddTagsToResource", region: region, deadline: deadline) {
            $0.set("ResourceName", resourceArn)
            Self.setTags(&$0, tags)
        }
    }

    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ListTagsForResource.html
    public func listTags(region: String, resourceArn: String, deadline: Date? = nil) async throws -> [RDSTag] {
        let result = try await call("ListTagsForResource", region: region, deadline: deadline) { $0.set("ResourceName", resourceArn) }
        return result.list("TagList", member: "Tag").map { RDSTag(key: $0.string("Key") ?? "", value: $0.string("Value") ?? "") }
    }

    /// Unplanned: promotes the secondary cluster now; `allowDataLoss` must be true to fail over
    /// while the primary region is impaired (otherwise RDS requires a switchover).
    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_FailoverGlobalCluster.html
    public func failoverGlobalCluster(region: String, globalCluster: String, targetClusterArn: String, allowDataLoss: Bool,
                                      deadline: Date? = nil) async throws -> XMLNode {
        try await call("FailoverGlobalCluster", region: region, deadline: deadline) {
            $0.set("GlobalClusterIdentifier", globalCluster)
            $0.set("TargetDbClusterIdentifier", targetClusterArn)
            $0.set("AllowDataLoss", allowDataLoss)
        }
    }

    /// Planned, no data loss: waits for the secondary to catch up, then swaps roles.
    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_SwitchoverGlobalCluster.html
    public func switchoverGlobalCluster(region: String, globalCluster: String, targetClusterArn: String,
                                        deadline: Date? = nil) async throws -> XMLNode {
        try await call("SwitchoverGlobalCluster", region: region, deadline: deadline) {
            $0.set("GlobalClusterIdentifier", globalCluster)
            $0.set("TargetDbClusterIdentifier", targetClusterArn)
        }
    }

    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeGlobalClusters.html
    public func describeGlobalCluster(region: String, identifier: String, deadline: Date? = nil) async throws -> GlobalCluster? {
        do {
            let result = try await call("DescribeGlobalClusters", region: region, deadline: deadline) {
                $0.set("GlobalClusterIdentifier", identifier)
            }
            return result.list("GlobalClusters", member: "GlobalClusterMember").first.map(GlobalCluster.init(xml:))
        } catch let error as AWSServiceError where error.code.hasPrefix("GlobalClusterNotFound") {
            return nil
        }
    }
}

/// An Aurora global database: which member cluster writes, and any switchover/failover under way.
public struct GlobalCluster: Sendable, Equatable {
    public let identifier: String
    public let status: String?
    public let writerClusterArn: String?
    public let failoverStatus: String?

    init(xml: XMLNode) {
        identifier = xml.string("GlobalClusterIdentifier") ?? ""
        status = xml.string("Status")
        writerClusterArn = xml.list("GlobalClusterMembers", member: "GlobalClusterMember")
            .first { $0.string("IsWriter") == "true" }?.string("DBClusterArn")
        failoverStatus = xml["FailoverState", "Status"]?.text
    }
}
