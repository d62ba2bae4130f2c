import DRCore
import Foundation

/// Traffic cutover: Route 53 records (control plane, us-east-1), health checks, and Route 53 ARC
/// routing controls (data plane, any of the cluster's regions).
public enum TrafficActions {
    public static func all(client: AWSClient) -> [any RunbookAction] {
        let route53 = Route53Client(client: client), zones = HostedZoneDirectory(route53: route53), arc = RoutingControlClient(client: client)
        return [UpsertRecordAction(route53: route53, zones: zones), HealthCheckStatusAction(route53: route53),
                SetRoutingControlAction(arc: arc), CheckRecordAction(route53: route53, zones: zones), CheckRoutingControlAction(arc: arc)]
    }

    /// Said by every action that needs Route 53's control plane, so `plan` shows the dependency.
    static let controlPlaneWarning = "Route 53's control plane is in us-east-1: this step needs us-east-1 reachable"
        + " (to fail out of us-east-1 without it, use aws.arc.set-routing-control)"
}

/// Hosted-zone ids by name for the steps that name their zone: one ListHostedZones (a call to the
/// control plane in us-east-1, on the way to traffic moving) serves every DNS step of a run and a
/// retry's observe and act alike. A name missing from the listing read is looked up once more (the
/// zone may be new); a failed listing is not kept.
actor HostedZoneDirectory {
    private let route53: Route53Client
    private var listing: Task<[Route53Client.HostedZone], any Error>?

    init(route53: Route53Client) { self.route53 = route53 }

    func id(named name: String) async throws -> String? {
        if let zone = Route53Client.zone(named: name, in: try await zones(refresh: false)) { return zone.id }
        return Route53Client.zone(named: name, in: try await zones(refresh: true))?.id
    }

    private func zones(refresh: Bool) async throws -> [Route53Client.HostedZone] {
        let current: Task<[Route53Client.HostedZone], any Error>
        if let listing, !refresh {
            current = listing
        } else {
            let route53 = self.route53
            current = Task { try await route53.listHostedZones() }
            listing = current
        }
        do {
            return try await current.value
        } catch {
            if listing == current { listing = nil }
            throw error
        }
    }
}

/// `aws.route53.upsert-record`: UPSERT one record set and wait until Route 53 reports INSYNC.
struct UpsertRecordAction: RunbookAction {
    let route53: Route53Client
    let zones: HostedZoneDirectory
    let name = "aws.route53.upsert-record"
    let summary = "Creates or updates a Route 53 record (UPSERT, skipped when it already holds) and waits until the change is INSYNC."
    let permissions: [ActionPermission] = [
        .aws("route53:ListHostedZones", note: "with zone_name"),
        .aws("route53:ListResourceRecordSets"),
        .aws("route53:ChangeResourceRecordSets"),
        .aws("route53:GetChange"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        // Route 53 is global: `region` is accepted for uniformity with the regional actions and ignored.
        // zone_id, or zone_name looked up when the step runs (one of them is required).
        .init("region", .string), .init("zone_id", .string), .init("zone_name", .string), .init("name", .string, required: true),
        .init("type", .string, required: true), .init("ttl", .int), .init("values", .list),
        .init("set_identifier", .string), .init("failover", .string), .init("health_check_id", .string),
        // {hosted_zone_id, dns_name, evaluate_target_health}: an alias record instead of ttl + values.
        .init("alias_target", .map),
    ]

    static func desiredRecord(_ arguments: [String: RunValue]) throws -> (zone: Zone, record: Route53RecordSet) {
        let arguments = StepArguments(arguments)
        let zone: Zone
        if let id = try arguments.optionalString("zone_id"), !id.isEmpty {
            zone = .id(id)
        } else if let name = try arguments.optionalString("zone_name"), !name.isEmpty {
            zone = .name(name)
        } else {
            throw ActionError(.permanent, "argument 'zone_id' or 'zone_name' is required")
        }
        var record = Route53RecordSet(name: try arguments.string("name"), type: try arguments.string("type").uppercased(),
                                      setIdentifier: try arguments.optionalString("set_identifier"),
                                      failover: try arguments.optionalString("failover")?.uppercased(),
                                      healthCheckId: try arguments.optionalString("health_check_id"))
        if let failover = record.failover, !["PRIMARY", "SECONDARY"].contains(failover) {
            throw ActionError(.permanent, "argument 'failover' must be PRIMARY or SECONDARY")
        }
        if record.failover != nil && record.setIdentifier == nil {
            throw ActionError(.permanent, "a failover record needs 'set_identifier'")
        }
        if let alias = try arguments.optionalMap("alias_target") {
            let fields = StepArguments(alias)
            record.aliasTarget = .init(hostedZoneId: try fields.string("hosted_zone_id"), dnsName: try fields.string("dns_name"),
                                       evaluateTargetHealth: try fields.optionalBool("evaluate_target_health") ?? false)
        } else {
            record.ttl = try arguments.int("ttl")
            record.values = try arguments.strings("values")
            guard !record.values.isEmpty else { throw ActionError(.permanent, "argument 'values' must not be empty") }
        }
        return (zone, record)
    }

    /// The hosted zone of a step: by id, or by name looked up now.
    enum Zone: Sendable {
        case id(String)
        case name(String)
    }

    func zoneId(_ zone: Zone) async throws -> String {
        switch zone {
        case .id(let id):
            return id
        case .name(let name):
            guard let found = try await zones.id(named: name) else {
                throw ActionError(.permanent, "no hosted zone named \(name)")
            }
            return found
        }
    }

    /// True when `existing` already holds what `desired` asks for (values in any order).
    static func holds(_ desired: Route53RecordSet, in existing: [Route53RecordSet]) -> Bool {
        guard let current = existing.first(where: { $0.setIdentifier == desired.setIdentifier }) else { return false }
        if let alias = desired.aliasTarget {
            guard let currentAlias = current.aliasTarget else { return false }
            return Route53Client.bareId(currentAlias.hostedZoneId) == Route53Client.bareId(alias.hostedZoneId)
                && Route53RecordSet.canonicalName(currentAlias.dnsName) == Route53RecordSet.canonicalName(alias.dnsName)
                && currentAlias.evaluateTargetHealth == alias.evaluateTargetHealth
                && current.failover == desired.failover && (desired.healthCheckId == nil || current.healthCheckId == desired.healthCheckId)
        }
        return current.aliasTarget == nil && current.ttl == desired.ttl && Set(current.values) == Set(desired.values)
            && current.values.count == desired.values.count && current.failover == desired.failover
            && (desired.healthCheckId == nil || current.healthCheckId == desired.healthCheckId)
    }

    func describe(_ arguments: [String: RunValue]) -> String {
        let target: String
        if case .map(let alias)? = arguments["alias_target"] {
            target = "alias \(alias.argumentText("dns_name"))"
        } else {
            target = "\(arguments.argumentText("values")) (TTL \(arguments.argumentText("ttl")))"
        }
        var identity = ""
        if let setIdentifier = arguments["set_identifier"] { identity += " set \(setIdentifier)" }
        if let failover = arguments["failover"] { identity += " \(failover)" }
        let zone = arguments["zone_id"].map { "zone \($0)" } ?? "zone \(arguments.argumentText("zone_name")) (ListHostedZones first)"
        return "Route 53 ChangeResourceRecordSets UPSERT \(arguments.argumentText("name")) \(arguments.argumentText("type"))"
            + "\(identity) → \(target) in \(zone), then GetChange until INSYNC."
            + " \(TrafficActions.controlPlaneWarning)"
    }

    /// Never "already done": ListResourceRecordSets shows a change as soon as Route 53 accepted it,
    /// seconds before it is INSYNC (served by every authoritative server), and only the change's
    /// id tells when that is. So a retry, or a step resumed after an act whose outcome (with its
    /// change id) was not journaled, UPSERTs again — idempotent, the same values — and waits on
    /// the new change; a step resumed after a journaled act skips the act and waits on that id.
    /// https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html
    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        _ = try Self.desiredRecord(invocation.arguments)   // a malformed step fails before anything else
        return nil
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let (zone, desired) = try Self.desiredRecord(invocation.arguments)
        // The lookup reads only: an error there leaves nothing in doubt.
        let zoneId: String = try await AWSStepErrors.run { try await self.zoneId(zone) }
        let change = try await AWSStepErrors.run(acting: true) {
            try await route53.changeResourceRecordSets(zoneId: zoneId, records: [desired], comment: "drctl \(invocation.idempotencyToken)")
        }
        return ["change_id": .string(change.id), "status": .string(change.status), "zone_id": .string(zoneId)]
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let (zone, desired) = try Self.desiredRecord(invocation.arguments)
        let clock = invocation.services.clock, route53 = self.route53
        return try await AWSStepErrors.run {
            guard let changeId = acted["change_id"]?.stringValue else {
                let zoneId: String
                if let known = acted["zone_id"]?.stringValue { zoneId = known } else { zoneId = try await self.zoneId(zone) }
                // Resumed from a journal that kept no change id (written before drctl journaled
                // what act returned): the best left is to wait until the record shows our values.
                let waiter = Waiter<Bool>(what: "\(desired.name) \(desired.type) to hold the new values", minimumDelay: 1,
                                          maximumDelay: 10, clock: clock) { $0 ? .success : .retry }
                _ = try await waiter.wait(until: invocation.deadline) {
                    Self.holds(desired, in: try await route53.listResourceRecordSets(zoneId: zoneId, name: desired.name, type: desired.type))
                }
                return ["change_id": .null, "status": .string("UNCHANGED")]
            }
            let waiter = Waiter<Route53ChangeInfo>(what: "Route 53 change \(changeId) INSYNC", minimumDelay: 1, maximumDelay: 10,
                                                   clock: clock) { $0.status == "INSYNC" ? .success : .retry }
            let change = try await waiter.wait(until: invocation.deadline) { try await route53.getChange(id: changeId) }
            return ["change_id": .string(change.id), "status": .string(change.status)]
        }
    }
}

/// `aws.route53.health-check-status`: what Route 53's checkers see now.
struct HealthCheckStatusAction: RunbookAction {
    let route53: Route53Client
    let name = "aws.route53.health-check-status"
    let summary = "Reads what Route 53's checkers report for a health check, and whether it is healthy."
    let permissions: [ActionPermission] = [.aws("route53:GetHealthCheckStatus")]
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [.init("region", .string), .init("health_check_id", .string, required: true)]

    /// Route 53 considers an endpoint healthy when more than 18% of its checkers report it healthy.
    /// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html
    static func isHealthy(_ observations: [Route53HealthObservation]) -> Bool {
        guard !observations.isEmpty else { return false }
        return Double(observations.filter(\.isHealthy).count) / Double(observations.count) > 0.18
    }

    func describe(_ arguments: [String: RunValue]) -> String {
        "read Route 53 health check \(arguments.argumentText("health_check_id")) (GetHealthCheckStatus). \(TrafficActions.controlPlaneWarning)"
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let id = try StepArguments(invocation.arguments).string("health_check_id")
        return try await AWSStepErrors.run {
            let observations = try await route53.getHealthCheckStatus(id: id)
            return ["healthy": .bool(Self.isHealthy(observations)),
                    "checkers": .list(observations.map {
                        .map(["region": .string($0.region), "ip_address": .string($0.ipAddress), "status": .string($0.status),
                              "healthy": .bool($0.isHealthy)])
                    })]
        }
    }
}
