import Foundation

/// `postgres.heartbeat-rpo` (read-only): the measured RPO — the newest heartbeat on the primary
/// minus the newest heartbeat found on the copy (a standby, a promoted replica, a restored
/// database). Both sides are read from the heartbeat table `HeartbeatWriter` keeps, so the figure
/// is what the copy really holds, whatever replication or backup path brought it there.
/// Outputs `measured_rpo_seconds`, `primary_beat`, `copy_beat` (ISO 8601), `beats_missing`;
/// with `max_rpo` (a duration), the step fails when the measured RPO is above it.
public struct PostgresHeartbeatRPOAction: RunbookAction {
    public let name = "postgres.heartbeat-rpo"
    public let summary = "Measures the real RPO: the newest heartbeat on the primary minus the newest heartbeat found on the copy."
    public let permissions: [ActionPermission] = [
        .postgres("CONNECT to both databases, and SELECT on the drctl_heartbeat table"),
    ]
    public let isMutating = false
    public let parameters: [ActionCatalog.Parameter] = PostgresActionTarget.parameters("primary_url") + PostgresActionTarget.parameters("copy_url")
        + [.init("source", .string), .init("max_rpo", .duration)]

    public init() {}

    public func describe(_ arguments: [String: RunValue]) -> String {
        "measure RPO from heartbeats: \(PostgresActionTarget.describe("primary_url", arguments)) vs \(PostgresActionTarget.describe("copy_url", arguments))"
    }

    public func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let primary = try PostgresActionTarget.resolve("primary_url", in: invocation.arguments)
        let copy = try PostgresActionTarget.resolve("copy_url", in: invocation.arguments)
        let source = invocation.arguments["source"]?.stringValue
        // The primary first: a beat landing between the two reads can only make the RPO look
        // larger than the truth, never smaller.
        guard let primaryBeat = try await HeartbeatTable.newestBeat(on: primary, source: source) else {
            throw ActionError(.permanent, "no heartbeat\(source.map { " from source \($0)" } ?? "") on the primary \(primary.display)")
        }
        guard let copyBeat = try await HeartbeatTable.newestBeat(on: copy, source: source ?? primaryBeat.source) else {
            throw ActionError(.permanent, "no heartbeat from source \(source ?? primaryBeat.source) on the copy \(copy.display): it holds none of the writes made since the heartbeat started")
        }
        let rpo = HeartbeatRPO(primary: primaryBeat, copy: copyBeat)
        if let limit = try invocation.seconds("max_rpo"), rpo.seconds > limit {
            throw ActionError(.permanent, "measured RPO \(DurationText.format(rpo.seconds)) is above max_rpo \(DurationText.format(limit)) (primary beat \(ReportTime.iso8601(primaryBeat.beatAt)), copy beat \(ReportTime.iso8601(copyBeat.beatAt)))")
        }
        var outputs: [String: RunValue] = [
            "measured_rpo_seconds": .double(rpo.seconds),
            "primary_beat": .string(ReportTime.iso8601(primaryBeat.beatAt)),
            "copy_beat": .string(ReportTime.iso8601(copyBeat.beatAt)),
            "source": .string(primaryBeat.source),
        ]
        if let missing = rpo.beatsMissing { outputs["beats_missing"] = .int(Int(missing)) }
        return outputs
    }
}
