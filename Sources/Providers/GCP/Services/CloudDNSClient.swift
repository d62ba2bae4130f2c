import DRCore
import Foundation

/// A Cloud DNS record set (https://cloud.google.com/dns/docs/reference/rest/v1/resourceRecordSets).
public struct DNSRecordSet: Sendable, Codable, Equatable {
    public var kind: String? = "dns#resourceRecordSet"
    public let name: String
    public let type: String
    public let ttl: Int?
    public let rrdatas: [String]?

    public init(name: String, type: String, ttl: Int, rrdatas: [String]) {
        self.name = name
        self.type = type
        self.ttl = ttl
        self.rrdatas = rrdatas
    }

    /// The same answer: name, type, TTL and the values in any order.
    func sameAnswer(as other: DNSRecordSet) -> Bool {
        name == other.name && type == other.type && ttl == other.ttl && Set(rrdatas ?? []) == Set(other.rrdatas ?? [])
    }
}

/// The Cloud DNS v1 calls of `gcp.dns.set-record`.
public struct CloudDNSClient: Sendable {
    let source: GCPClientSource

    public init(source: GCPClientSource) {
        self.source = source
    }

    static func zonePath(_ project: String, _ zone: String) -> String {
        "dns/v1/projects/\(GCPPath.segment(project))/managedZones/\(GCPPath.segment(zone))"
    }

    /// The record set of `name` and `type`, nil when there is none.
    func recordSet(project: String, zone: String, name: String, type: String, deadline: Date?) async throws -> DNSRecordSet? {
        struct Page: Decodable { let rrsets: [DNSRecordSet]? }
        let page = try await source.client().call(GCPRequest(service: .dns, methodId: "dns.resourceRecordSets.list", httpMethod: "GET",
                                                             path: Self.zonePath(project, zone) + "/rrsets", query: [("name", name), ("type", type)]),
                                                  as: Page.self, deadline: deadline)
        return page.rrsets?.first { $0.name == name && $0.type == type }
    }

    /// One atomic change (`changes.create`): Cloud DNS applies it only when every deletion equals
    /// the current record set exactly (else 412 conditionNotMet), so deleting what was read cannot
    /// clobber a record someone else changed in between.
    func change(project: String, zone: String, deletions: [DNSRecordSet], additions: [DNSRecordSet], deadline: Date?) async throws -> GCPOperation {
        struct Body: Encodable, Sendable {
            let kind = "dns#change"
            let additions: [DNSRecordSet]
            let deletions: [DNSRecordSet]
        }
        let request = try GCPRequest(service: .dns, methodId: "dns.changes.create", httpMethod: "POST", path: Self.zonePath(project, zone) + "/changes",
                                     json: Body(additions: additions, deletions: deletions))
        return try await source.client().call(request, as: GCPOperation.self, deadline: deadline)
    }

    func changeStatus(project: String, zone: String, id: String, deadline: Date?) async throws -> GCPOperation {
        try await source.client().call(GCPRequest(service: .dns, methodId: "dns.changes.get", httpMethod: "GET",
                                                  path: Self.zonePath(project, zone) + "/changes/\(GCPPath.segment(id))"),
                                       as: GCPOperation.self, deadline: deadline)
    }
}
