import DRCore
import Foundation

/// Amazon Route 53 over REST-XML (a global service signed for us-east-1).
/// https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHostedZones.html
public struct Route53Client: Sendable {
    public struct HostedZone: Sendable, Equatable, Codable {
        public let id: String
        public let name: String
        public let privateZone: Bool
        public let recordCount: Int?
    }

    let client: AWSClient
    let service = AWSServiceDescriptor.route53

    public init(client: AWSClient) { self.client = client }

    public func listHostedZones(pageSize: Int? = nil) async throws -> [HostedZone] {
        try await collectPages { marker in
            var query: [(String, String)] = []
            if let marker { query.append(("marker", marker)) }
            if let pageSize { query.append(("maxitems", String(pageSize))) }
            let request = RESTXMLProtocol.request(operation: "ListHostedZones", method: "GET",
                                                  path: "/\(service.apiVersion)/hostedzone", query: query)
            let response = try await client.send(request, service: service, region: "us-east-1")
            let root = try AWSResponseDecoding.xml(response, operation: "ListHostedZones")
            let zones = root.list("HostedZones", member: "HostedZone").map { zone in
                HostedZone(id: (zone.string("Id") ?? "").replacingOccurrences(of: "/hostedzone/", with: ""),
                           name: zone.string("Name") ?? "",
                           privateZone: zone["Config", "PrivateZone"]?.text == "true",
                           recordCount: zone.string("ResourceRecordSetCount").flatMap(Int.init))
            }
            let truncated = root.string("IsTruncated") == "true"
            return (zones, truncated ? root.string("NextMarker") : nil)
        }
    }

    /// The zone of `zones` named `name` ("example.com." or "example.com"), the public one when a
    /// private zone has the same name; nil when there is none.
    public static func zone(named name: String, in zones: [HostedZone]) -> HostedZone? {
        let wanted = name.hasSuffix(".") ? name : name + "."
        return zones.first { $0.name == wanted && !$0.privateZone } ?? zones.first { $0.name == wanted }
    }
}
