import DRCore
import Foundation

/// Amazon RDS over the Query protocol. Operations are grouped by concern in the
/// `RDSClient+*.swift` files; all of them go through `call`, hence through `AWSClient`'s one
/// pipeline (signing, retries, error decoding).
/// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Operations.html
public struct RDSClient: Sendable {
    public let client: AWSClient
    let service = AWSServiceDescriptor.rds
    /// Single-instance reads (`findDBInstance`) coalesced per region: the steps of one failover
    /// share it, so their observations and waiter polls cost one DescribeDBInstances per round.
    let instanceReads: ReadCoalescer<String, String, DBInstance>?
    /// "Does this group exist in the region?", coalesced per region and kind.
    let groupReads: ReadCoalescer<GroupScope, String, Bool>?

    /// The kinds of group an instance uses, by the name RDS gives them.
    public enum GroupKind: String, CaseIterable, Hashable, Sendable {
        case subnet = "DB subnet group", parameter = "DB parameter group", option = "option group"
    }

    /// The DB parameter, subnet or option groups of one region.
    struct GroupScope: Hashable, Sendable {
        let kind: GroupKind
        let region: String
    }

    /// RDS's `db-instance-id` filter takes a list of identifiers; its maximum length is not
    /// documented, so batches stay well under the 100 records of a page.
    static let instanceBatchLimit = 50

    public init(client: AWSClient) {
        self.client = client
        let plain = RDSClient(unbatched: client)
        instanceReads = ReadCoalescer(maxBatch: Self.instanceBatchLimit) { region, identifiers, deadline in
            try await plain.instances(region: region, identifiers: identifiers, deadline: deadline)
        }
        groupReads = ReadCoalescer(maxBatch: 1_000) { scope, names, deadline in
            try await plain.groupsPresent(scope, names: names, deadline: deadline)
        }
    }

    private init(unbatched client: AWSClient) {
        self.client = client
        instanceReads = nil
        groupReads = nil
    }

    /// Sends one RDS action and returns its `<ActionResult>`.
    func call(_ action: String, region: String, deadline: Date? = nil,
              _ build: (inout QueryParameters) -> Void = { _ in }) async throws -> XMLNode {
        var parameters = QueryParameters()
        build(&parameters)
        let request = QueryProtocol.request(action: action, version: service.apiVersion, parameters: parameters)
        let response = try await client.send(request, service: service, region: region, deadline: deadline)
        return try QueryProtocol.result(of: response, action: action)
    }

    /// Every instance in `region` (or the one named), following `Marker` pagination.
    /// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstances.html
    public func describeDBInstances(region: String, identifier: String? = nil, pageSize: Int? = nil,
                                    deadline: Date? = nil) async throws -> [DBInstance] {
        try await collectPages { marker in
            let result = try await call("DescribeDBInstances", region: region, deadline: deadline) {
                $0.set("DBInstanceIdentifier", identifier)
                $0.set("MaxRecords", pageSize)
                $0.set("Marker", marker)
            }
            return (result.list("DBInstances", member: "DBInstance").map(DBInstance.init(xml:)), result.string("Marker"))
        }
    }

    /// The instance, or nil when RDS says `DBInstanceNotFound`. Always read after the call starts;
    /// concurrent reads in one region go out together (see `instanceReads`).
    public func findDBInstance(region: String, identifier: String, deadline: Date? = nil) async throws -> DBInstance? {
        // Identifiers are case-insensitive (RDS stores them lower-case); ARNs are read on their own.
        if let instanceReads, !identifier.contains(":") {
            return try await instanceReads.read(identifier.lowercased(), in: region, deadline: deadline)
        }
        return try await instances(region: region, identifiers: [identifier], deadline: deadline)[identifier]
    }

    /// The named instances that exist, keyed as asked: one by `DBInstanceIdentifier` (RDS answers
    /// `DBInstanceNotFound` for a missing one), several by the `db-instance-id` filter (missing
    /// ones are simply absent).
    func instances(region: String, identifiers: [String], deadline: Date?) async throws -> [String: DBInstance] {
        if identifiers.count == 1, let identifier = identifiers.first {
            do {
                return try await describeDBInstances(region: region, identifier: identifier, deadline: deadline).first.map { [identifier: $0] } ?? [:]
            } catch let error as AWSServiceError where error.code == "DBInstanceNotFound" || error.code == "DBInstanceNotFoundFault" {
                return [:]
            }
        }
        let found = try await collectPages { marker in
            let result = try await call("DescribeDBInstances", region: region, deadline: deadline) {
                $0.setStructures("Filters", [("db-instance-id", identifiers)], member: "Filter") { parameters, prefix, filter in
                    parameters.set("\(prefix).Name", filter.0)
                    parameters.setList("\(prefix).Values", filter.1, member: "Value")
                }
                $0.set("Marker", marker)
            }
            return (result.list("DBInstances", member: "DBInstance").map(DBInstance.init(xml:)), result.string("Marker"))
        }
        var byIdentifier: [String: DBInstance] = [:]
        for instance in found { byIdentifier[instance.identifier.lowercased()] = instance }
        return Dictionary(uniqueKeysWithValues: identifiers.compactMap { id in byIdentifier[id.lowercased()].map { (id, $0) } })
    }
}
