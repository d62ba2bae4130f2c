import DRCore
import Foundation

/// `aws.route53.check-record` (read-only): the hosted zone a DNS step will change exists, and what
/// the record holds now. A zone that does not exist is a `problem`; a record that does not exist
/// yet is not (the UPSERT creates it). A zone named by `zone_name` is looked up through the same
/// listing the DNS steps use.
struct CheckRecordAction: RunbookAction {
    let route53: Route53Client
    let zones: HostedZoneDirectory
    let name = "aws.route53.check-record"
    let summary = "Reads whether the hosted zone a DNS step will change exists and what the record holds now, without changing anything."
    let permissions: [ActionPermission] = [
        .aws("route53:ListHostedZones", note: "with zone_name"),
        .aws("route53:ListResourceRecordSets"),
    ]
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [
        .init("region", .string), .init("zone_id", .string), .init("zone_name", .string), .init("name", .string, required: true),
        .init("type", .string, required: true),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        let zone = arguments["zone_id"].map { "zone \($0)" } ?? "zone \(arguments.argumentText("zone_name")) (ListHostedZones first)"
        return "Route 53 ListResourceRecordSets \(arguments.argumentText("name")) \(arguments.argumentText("type")) in \(zone). "
            + TrafficActions.controlPlaneWarning
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = StepArguments(invocation.arguments)
        let record = try arguments.string("name"), type = try arguments.string("type").uppercased()
        let zoneId = try arguments.optionalString("zone_id").flatMap { $0.isEmpty ? nil : $0 }
        let zoneName = try arguments.optionalString("zone_name")
        func missing(_ zone: String) -> [String: RunValue] {
            ["zone_id": .null, "exists": .bool(false), "values": .list([]),
             "problems": .list([.string("no hosted zone \(zone) for \(record)")])]
        }
        return try await AWSStepErrors.run {
            let id: String
            if let zoneId {
                id = zoneId
            } else if let zoneName, let found = try await zones.id(named: zoneName) {
                id = found
            } else {
                return missing(zoneName ?? "(none named)")
            }
            let sets: [Route53RecordSet]
            do {
                sets = try await route53.listResourceRecordSets(zoneId: id, name: record, type: type)
            } catch let error as AWSServiceError where error.category == .notFound {
                return missing(id)
            }
            let values = sets.flatMap { $0.aliasTarget.map { ["alias \($0.dnsName)"] } ?? $0.values }
            return ["zone_id": .string(id), "exists": .bool(!sets.isEmpty), "values": .list(values.map(RunValue.string)),
                    "problems": .list([])]
        }
    }
}

/// `aws.arc.check-routing-control` (read-only): the routing control a cutover will set exists, and
/// its state now, read through the cluster's data plane (the first endpoint that answers).
/// Unknown to the cluster is a `problem`; no endpoint answering throws.
struct CheckRoutingControlAction: RunbookAction {
    let arc: RoutingControlClient
    let name = "aws.arc.check-routing-control"
    let summary = "Reads the state of a Route 53 ARC routing control through the cluster's endpoints, without changing anything."
    let permissions: [ActionPermission] = [.aws("route53-recovery-cluster:GetRoutingControlState")]
    let isMutating = false
    let parameters: [ActionCatalog.Parameter] = [
        .init("region", .string), .init("routing_control_arn", .string, required: true), .init("cluster_endpoints", .list, required: true),
    ]

    func describe(_ arguments: [String: RunValue]) -> String {
        "Route 53 ARC GetRoutingControlState \(arguments.argumentText("routing_control_arn")) on the first cluster endpoint that answers"
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = try SetRoutingControlAction.Arguments(invocation.arguments, readOnly: true)
        do {
            let (state, endpoint) = try await SetRoutingControlAction.firstAnswering(arguments.endpoints, acting: false) {
                try await arc.getRoutingControlState(arn: arguments.arn, at: $0)
            }
            return ["exists": .bool(true), "state": .string(state), "endpoint_used": .string(endpoint.url), "problems": .list([])]
        } catch let error as ActionError where error.kind == .permanent {
            // An answer that would be the same on every endpoint: unknown ARN (or denied).
            return ["exists": .bool(false), "state": .null, "endpoint_used": .null,
                    "problems": .list([.string("routing control \(arguments.arn): \(error.message)")])]
        }
    }
}
