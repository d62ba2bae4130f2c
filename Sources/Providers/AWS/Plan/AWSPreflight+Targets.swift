import DRCore
import Foundation

/// The preflight's reads of what the move will change besides the databases: the standby capacity
/// it scales, the records or routing controls it sets. They go out in the preflight's one round of
/// reads; a resource that does not exist (a typo in the plan) blocks the move before anything
/// changes, since the step that would meet it runs only after the old primary is fenced. A read
/// that fails (throttled, the region slow) is a warning: it proves nothing is wrong.
extension AWSPreflight {
    typealias Call = (key: String, action: String, arguments: [String: RunValue])

    /// One read per resource the move will change, with the name its check is reported under.
    func targetCalls() -> [(call: Call, name: String)] {
        var calls: [(call: Call, name: String)] = []
        if let standby = aws.standby[to] {
            for group in standby.eksNodegroups {
                calls.append((("eks:\(group.cluster)/\(group.nodegroup)", "aws.eks.check-nodegroup",
                               ["region": .string(to), "cluster": .string(group.cluster), "nodegroup": .string(group.nodegroup)]),
                              "EKS node group \(group.cluster)/\(group.nodegroup) in \(to) (→ desired \(group.desired))"))
            }
            for group in standby.autoScalingGroups {
                calls.append((("asg:\(group.group)", "aws.autoscaling.check-group", ["region": .string(to), "group": .string(group.group)]),
                              "Auto Scaling group \(group.group) in \(to) (→ desired \(group.desired))"))
            }
            for service in standby.ecsServices {
                calls.append((("ecs:\(service.cluster)/\(service.service)", "aws.ecs.check-service",
                               ["region": .string(to), "cluster": .string(service.cluster), "service": .string(service.service)]),
                              "ECS service \(service.cluster)/\(service.service) in \(to) (→ desired \(service.desired))"))
            }
        }
        // The generator sets the routing controls of both regions when the target has some, else
        // it changes the records that have values for the target.
        let controls = aws.routingControls.filter { $0.region == to }.isEmpty
            ? [] : aws.routingControls.filter { $0.region == to || $0.region == from }
        for control in controls {
            let endpoints = control.clusterEndpoints.map { RunValue.map(["endpoint": .string($0.endpoint), "region": .string($0.region)]) }
            calls.append((("arc:\(control.arn)", "aws.arc.check-routing-control",
                           ["routing_control_arn": .string(control.arn), "cluster_endpoints": .list(endpoints)]),
                          "routing control \(control.arn) (→ \(control.region == to ? "On" : "Off"))"))
        }
        // A zone named by name is checked by the zone lookup that goes out in the same round
        // (`resolveZones`, a plan error when missing): reading its record too would take a second
        // round trip after the listing, for a record the UPSERT creates anyway if it is missing.
        for record in aws.records where controls.isEmpty && !(record.values[to] ?? []).isEmpty && !record.zoneId.isEmpty {
            let arguments: [String: RunValue] = ["zone_id": .string(record.zoneId), "name": .string(record.name), "type": .string(record.type)]
            calls.append((("record:\(record.name):\(record.type)", "aws.route53.check-record", arguments),
                          "DNS record \(record.name) \(record.type) (→ \((record.values[to] ?? []).joined(separator: ", ")))"))
        }
        return calls
    }

    /// The checks of `targetCalls`' results, in plan order.
    func targetChecks(_ calls: [(call: Call, name: String)], results: [String: Result<[String: RunValue], any Error>]) -> [Check] {
        calls.compactMap { call, name -> [Check]? in
            switch results[call.key] {
            case .success(let outputs)?:
                let problems = Self.strings(outputs["problems"])
                guard problems.isEmpty else { return problems.map { Check(name: name, ok: false, detail: $0, blocking: true) } }
                return [Check(name: name, ok: true, detail: Self.currentState(outputs), blocking: true)]
            case .failure(let error)?:
                return [Check(name: name, ok: false, detail: "could not read: \(error)", blocking: false)]
            case nil:
                return nil
            }
        }.flatMap { $0 }
    }

    /// What a target holds now, for the operator to compare with what the move will set.
    private static func currentState(_ outputs: [String: RunValue]) -> String {
        if let current = outputs["current"]?.stringValue { return "now \(current)" }
        if let state = outputs["state"]?.stringValue { return "now \(state)" }
        if outputs["exists"]?.boolValue == false { return "zone \(outputs["zone_id"]?.description ?? "?"); no such record yet (the UPSERT creates it)" }
        return "zone \(outputs["zone_id"]?.description ?? "?"); now \(strings(outputs["values"]).joined(separator: ", "))"
    }
}
