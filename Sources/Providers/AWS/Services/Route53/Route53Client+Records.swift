import DRCore
import Foundation

/// A Route 53 record set: plain (TTL + values), alias, and failover/weighted ones (SetIdentifier).
/// https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html
public struct Route53RecordSet: Sendable, Equatable {
    public struct AliasTarget: Sendable, Equatable {
        public var hostedZoneId: String
        public var dnsName: String
        public var evaluateTargetHealth: Bool

        public init(hostedZoneId: String, dnsName: String, evaluateTargetHealth: Bool = false) {
            self.hostedZoneId = hostedZoneId
            self.dnsName = dnsName
            self.evaluateTargetHealth = evaluateTargetHealth
        }
    }

    public var name: String
    public var type: String
    public var setIdentifier: String?
    /// "PRIMARY" or "SECONDARY" for failover records.
    public var failover: String?
    public var ttl: Int?
    public var values: [String]
    public var aliasTarget: AliasTarget?
    public var healthCheckId: String?

    public init(name: String, type: String, setIdentifier: String? = nil, failover: String? = nil, ttl: Int? = nil,
                values: [String] = [], aliasTarget: AliasTarget? = nil, healthCheckId: String? = nil) {
        self.name = name
        self.type = type
        self.setIdentifier = setIdentifier
        self.failover = failover
        self.ttl = ttl
        self.values = values
        self.aliasTarget = aliasTarget
        self.healthCheckId = healthCheckId
    }

    /// Route 53 names are case-insensitive and always listed fully qualified ("app.example.com.").
    public static func canonicalName(_ name: String) -> String {
        let lower = name.lowercased()
        return lower.hasSuffix(".") ? lower : lower + "."
    }

    init(xml: XMLNode) {
        name = xml.string("Name") ?? ""
        type = xml.string("Type") ?? ""
        setIdentifier = xml.string("SetIdentifier")
        failover = xml.string("Failover")
        ttl = xml.string("TTL").flatMap(Int.init)
        values = xml.list("ResourceRecords", member: "ResourceRecord").compactMap { $0.string("Value") }
        aliasTarget = xml.child("AliasTarget").map {
            AliasTarget(hostedZoneId: $0.string("HostedZoneId") ?? "", dnsName: $0.string("DNSName") ?? "",
                        evaluateTargetHealth: $0.string("EvaluateTargetHealth") == "true")
        }
        healthCheckId = xml.string("HealthCheckId")
    }

    /// Elements in the order of the model's `ResourceRecordSet` structure.
    var xml: XMLNode {
        var children: [XMLNode] = [.leaf("Name", name), .leaf("Type", type)]
        if let setIdentifier { children.append(.leaf("SetIdentifier", setIdentifier)) }
        if let failover { children.append(.leaf("Failover", failover)) }
        if let ttl { children.append(.leaf("TTL", String(ttl))) }
        if !values.isEmpty {
            children.append(XMLNode(name: "ResourceRecords", children: values.map {
                XMLNode(name: "ResourceRecord", children: [.leaf("Value", $0)])
            }))
        }
        if let aliasTarget {
            children.append(XMLNode(name: "AliasTarget", children: [
                .leaf("HostedZoneId", aliasTarget.hostedZoneId), .leaf("DNSName", aliasTarget.dnsName),
                .leaf("EvaluateTargetHealth", aliasTarget.evaluateTargetHealth ? "true" : "false"),
            ]))
        }
        if let healthCheckId { children.append(.leaf("HealthCheckId", healthCheckId)) }
        return XMLNode(name: "ResourceRecordSet", children: children)
    }
}

/// A change batch's progress: PENDING until every Route 53 authoritative server has it, then INSYNC.
public struct Route53ChangeInfo: Sendable, Equatable {
    /// Without the "/change/" prefix.
    public let id: String
    public let status: String

    init(xml: XMLNode) {
        id = Route53Client.bareId(xml.string("Id") ?? "")
        status = xml.string("Status") ?? ""
    }
}

/// What one Route 53 health checker last saw.
public struct Route53HealthObservation: Sendable, Equatable {
    public let region: String
    public let ipAddress: String
    /// e.g. "Success: HTTP Status Code 200, OK" or "Failure: Connection timed out…".
    public let status: String

    public var isHealthy: Bool { status.hasPrefix("Success") }
}

extension Route53Client {
    static let xmlNamespace = "https://route53.amazonaws.com/doc/2013-04-01/"

    /// "/hostedzone/Z123" → "Z123", "/change/C1" → "C1".
    static func bareId(_ id: String) -> String {
        id.split(separator: "/").last.map(String.init) ?? id
    }

    /// https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html
    public func changeResourceRecordSets(zoneId: String, action: String = "UPSERT", records: [Route53RecordSet],
                                         comment: String? = nil) async throws -> Route53ChangeInfo {
        var batch: [XMLNode] = []
        if let comment { batch.append(.leaf("Comment", comment)) }
        batch.append(XMLNode(name: "Changes", children: records.map {
            XMLNode(name: "Change", children: [.leaf("Action", action), $0.xml])
        }))
        let body = XMLNode(name: "ChangeResourceRecordSetsRequest", attributes: ["xmlns": Self.xmlNamespace],
                           children: [XMLNode(name: "ChangeBatch", children: batch)])
        let request = RESTXMLProtocol.request(operation: "ChangeResourceRecordSets", method: "POST",
                                              path: "/\(service.apiVersion)/hostedzone/\(encodePathLabel(Self.bareId(zoneId), greedy: false))/rrset/",
                                              body: body)
        let response = try await client.send(request, service: service, region: "us-east-1")
        let root = try AWSResponseDecoding.xml(response, operation: "ChangeResourceRecordSets")
        return Route53ChangeInfo(xml: root.child("ChangeInfo") ?? root)
    }

    /// https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html
    public func getChange(id: String) async throws -> Route53ChangeInfo {
        let request = RESTXMLProtocol.request(operation: "GetChange", method: "GET",
                                              path: "/\(service.apiVersion)/change/\(encodePathLabel(Self.bareId(id), greedy: false))")
        let response = try await client.send(request, service: service, region: "us-east-1")
        let root = try AWSResponseDecoding.xml(response, operation: "GetChange")
        return Route53ChangeInfo(xml: root.child("ChangeInfo") ?? root)
    }

    /// The record sets named `name` of `type` (all set identifiers), starting the listing there
    /// and following `NextRecordName`/`NextRecordType`/`NextRecordIdentifier` while they still match.
    /// https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListResourceRecordSets.html
    public func listResourceRecordSets(zoneId: String, name: String, type: String, pageSize: Int? = nil) async throws -> [Route53RecordSet] {
        let wantedName = Route53RecordSet.canonicalName(name)
        var start = (name: name, type: type, identifier: String?.none)
        var found: [Route53RecordSet] = []
        for _ in 0..<1_000 {
            var query: [(String, String)] = [("name", start.name), ("type", start.type)]
            if let identifier = start.identifier { query.append(("identifier", identifier)) }
            if let pageSize { query.append(("maxitems", String(pageSize))) }
            let request = RESTXMLProtocol.request(operation: "ListResourceRecordSets", method: "GET",
                                                  path: "/\(service.apiVersion)/hostedzone/\(encodePathLabel(Self.bareId(zoneId), greedy: false))/rrset",
                                                  query: query)
            let response = try await client.send(request, service: service, region: "us-east-1")
            let root = try AWSResponseDecoding.xml(response, operation: "ListResourceRecordSets")
            let page = root.list("ResourceRecordSets", member: "ResourceRecordSet").map(Route53RecordSet.init(xml:))
            // The listing is ordered by name then type: stop at the first record past ours.
            let matching = page.filter { Route53RecordSet.canonicalName($0.name) == wantedName && $0.type == type }
            found.append(contentsOf: matching)
            guard root.string("IsTruncated") == "true", let nextName = root.string("NextRecordName"),
                  Route53RecordSet.canonicalName(nextName) == wantedName, root.string("NextRecordType") == type else { return found }
            start = (nextName, type, root.string("NextRecordIdentifier"))
        }
        throw PaginationError(reason: "more than 1000 pages of \(name) \(type)")
    }

    /// https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHealthCheckStatus.html
    public func getHealthCheckStatus(id: String) async throws -> [Route53HealthObservation] {
        let request = RESTXMLProtocol.request(operation: "GetHealthCheckStatus", method: "GET",
                                              path: "/\(service.apiVersion)/healthcheck/\(encodePathLabel(id, greedy: false))/status")
        let response = try await client.send(request, service: service, region: "us-east-1")
        let root = try AWSResponseDecoding.xml(response, operation: "GetHealthCheckStatus")
        return root.list("HealthCheckObservations", member: "HealthCheckObservation").map {
            Route53HealthObservation(region: $0.string("Region") ?? "", ipAddress: $0.string("IPAddress") ?? "",
                                     status: $0["StatusReport", "Status"]?.text ?? "")
        }
    }

    /// For setup and tests. `callerReference` makes a retried create idempotent.
    /// https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html
    public func createHostedZone(name: String, callerReference: String) async throws -> String {
        let body = XMLNode(name: "CreateHostedZoneRequest", attributes: ["xmlns": Self.xmlNamespace],
                           children: [.leaf("Name", name), .leaf("CallerReference", callerReference)])
        let request = RESTXMLProtocol.request(operation: "CreateHostedZone", method: "POST", path: "/\(service.apiVersion)/hostedzone", body: body)
        let response = try await client.send(request, service: service, region: "us-east-1")
        let root = try AWSResponseDecoding.xml(response, operation: "CreateHostedZone")
        return Self.bareId(root["HostedZone", "Id"]?.text ?? "")
    }

    /// For setup and tests: an HTTP health check of `ipAddress:port/path`.
    /// https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHealthCheck.html
    public func createHealthCheck(ipAddress: String, port: Int, path: String, callerReference: String) async throws -> String {
        let config = XMLNode(name: "HealthCheckConfig", children: [
            .leaf("IPAddress", ipAddress), .leaf("Port", String(port)), .leaf("Type", "HTTP"), .leaf("ResourcePath", path),
        ])
        let body = XMLNode(name: "CreateHealthCheckRequest", attributes: ["xmlns": Self.xmlNamespace],
                           children: [.leaf("CallerReference", callerReference), config])
        let request = RESTXMLProtocol.request(operation: "CreateHealthCheck", method: "POST", path: "/\(service.apiVersion)/healthcheck", body: body)
        let response = try await client.send(request, service: service, region: "us-east-1")
        return try AWSResponseDecoding.xml(response, operation: "CreateHealthCheck")["HealthCheck", "Id"]?.text ?? ""
    }
}
