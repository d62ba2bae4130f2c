import DRCore
import Foundation

/// `gcp.dns.set-record`: makes one Cloud DNS record set answer `values` with `ttl`. It reads the
/// current set and sends one `changes.create` with that exact set as the deletion and the wanted one
/// as the addition; when someone changed the record in between (412 conditionNotMet, or 409 for a
/// set that appeared), it reads again and retries, at most `maxAttempts` times. It waits until the
/// change is `done` (served by Cloud DNS's name servers). Already the wanted answer → no change.
struct DNSSetRecordAction: RunbookAction {
    let dns: CloudDNSClient
    let name = "gcp.dns.set-record"
    let summary = "Sets a Cloud DNS record set to the given values and TTL with one atomic change (deleting exactly what it read) and waits until the change is done. Outputs: name, type, ttl, values, previous_values, change_id, changed."
    let permissions: [ActionPermission] = [
        .gcp("dns.resourceRecordSets.list", method: "dns.resourceRecordSets.list"),
        .gcp("dns.changes.create", method: "dns.changes.create",
             note: "with dns.resourceRecordSets.create, dns.resourceRecordSets.delete and dns.resourceRecordSets.update on the zone"),
        .gcp("dns.changes.get", method: "dns.changes.get"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        GCPActions.project, GCPActions.name("zone", help: "the managed zone's name (not its DNS name)"),
        .init("name", .string, required: true, help: "the record's fully qualified name; a trailing dot is added when missing"),
        .init("type", .string, required: true, help: "the record type", check: .oneOf(["A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NS", "PTR", "SRV", "SVCB", "TXT"])),
        .init("ttl", .int, help: "seconds (default 60)", check: .atLeast(0)),
        .init("values", .list, required: true, help: "the record's data (rrdatas)"),
    ]
    static let maxAttempts = 5

    func describe(_ arguments: [String: RunValue]) -> String {
        "resourceRecordSets.list \(arguments.argumentText("name")) \(arguments.argumentText("type")) in zone \(arguments.argumentText("zone")) of project "
            + "\(arguments.argumentText("project")), changes.create deleting what it read and adding \(arguments.argumentText("values")) ttl \(arguments.argumentText("ttl", "60")) "
            + "unless already so (re-read and retried on a concurrent change), then changes.get until done"
    }

    struct Request {
        let project: String
        let zone: String
        let wanted: DNSRecordSet
    }

    func request(_ invocation: ActionInvocation) throws -> Request {
        let arguments = GCPArguments(invocation)
        var name = try arguments.string("name")
        if !name.hasSuffix(".") { name += "." }
        let type = try arguments.string("type").uppercased()
        let ttl = try arguments.int("ttl") ?? 60
        guard ttl >= 0 else { throw arguments.invalid("ttl", "seconds >= 0") }
        let values = try arguments.strings("values")
        guard !values.isEmpty else { throw arguments.invalid("values", "a non-empty list") }
        return Request(project: try arguments.name("project"), zone: try arguments.name("zone"),
                       wanted: DNSRecordSet(name: name, type: type, ttl: ttl, rrdatas: values))
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let request = try request(invocation)
        return try await GCPActions.mapped(permissions) {
            let current = try await dns.recordSet(project: request.project, zone: request.zone, name: request.wanted.name,
                                                  type: request.wanted.type, deadline: invocation.deadline)
            guard let current, current.sameAnswer(as: request.wanted) else { return nil }
            return Self.outputs(request.wanted, previous: current, change: nil, changed: false)
        }
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let request = try request(invocation)
        let wanted = request.wanted, deadline = invocation.deadline
        return try await GCPActions.mapped(permissions) {
            var attempt = 0
            while true {
                attempt += 1
                let current = try await dns.recordSet(project: request.project, zone: request.zone, name: wanted.name, type: wanted.type, deadline: deadline)
                if let current, current.sameAnswer(as: wanted) {
                    return Self.outputs(wanted, previous: current, change: nil, changed: false)
                }
                do {
                    let change = try await dns.change(project: request.project, zone: request.zone, deletions: current.map { [$0] } ?? [],
                                                      additions: [wanted], deadline: deadline)
                    return Self.outputs(wanted, previous: current, change: change.name, changed: true)
                } catch let error as GCPServiceError where (error.httpStatus == 412 || error.httpStatus == 409) && attempt < Self.maxAttempts {
                    // Someone changed the record between our read and our change: read again.
                    invocation.services.messages("\(wanted.name) \(wanted.type) changed concurrently (\(error.reason ?? "\(error.httpStatus)")); reading it again")
                }
            }
        }
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let request = try request(invocation)
        return try await GCPActions.mapped(permissions) {
            if case .string(let id)? = acted["change_id"] {
                _ = try await GCPOperationWaiter(what: "Cloud DNS change \(id) in \(request.zone)", minimumDelay: 1, maximumDelay: 10,
                                                 clock: invocation.services.clock).wait(until: invocation.deadline) {
                    try await dns.changeStatus(project: request.project, zone: request.zone, id: id, deadline: invocation.deadline)
                }
                return acted
            }
            // No change of ours to follow (an act after a crash, or nothing to change): the record itself must answer.
            let current = try await dns.recordSet(project: request.project, zone: request.zone, name: request.wanted.name,
                                                  type: request.wanted.type, deadline: invocation.deadline)
            guard let current, current.sameAnswer(as: request.wanted) else {
                throw ActionError(.transient, "\(request.wanted.name) \(request.wanted.type) does not answer \(request.wanted.rrdatas ?? []) yet")
            }
            return acted.isEmpty ? Self.outputs(request.wanted, previous: nil, change: nil, changed: false) : acted
        }
    }

    static func outputs(_ wanted: DNSRecordSet, previous: DNSRecordSet?, change: String?, changed: Bool) -> [String: RunValue] {
        ["name": .string(wanted.name), "type": .string(wanted.type), "ttl": .int(wanted.ttl ?? 0),
         "values": .list((wanted.rrdatas ?? []).map(RunValue.string)),
         "previous_values": previous.map { .list(($0.rrdatas ?? []).map(RunValue.string)) } ?? .null,
         "change_id": change.map(RunValue.string) ?? .null, "changed": .bool(changed)]
    }
}
