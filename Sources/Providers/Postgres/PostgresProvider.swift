import DRCore
import Foundation

/// Self-managed PostgreSQL behind drctl's provider seam: a database's primary and streaming
/// standbys, each in a site of the plan, reached by libpq at URLs held in environment variables.
/// Its move: fence the old primary (`postgres.fence`), promote the standby in the target site
/// (`postgres.promote`), then the database's own data checks on the promoted server, before
/// traffic (any provider's) moves. Its data-loss signal is the standby's replication lag.
public struct PostgresProvider: DRProvider {
    private let registered: [any RunbookAction]
    private let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        registered = [PostgresReplicationLagAction(), PostgresPromoteAction(), PostgresFenceAction(), PostgresTimelineAction(),
                      PostgresCheckRowsAction(), PostgresCheckFreshnessAction(), PostgresCheckChecksumAction(), PostgresCheckSQLAction(),
                      PostgresHeartbeatRPOAction()]
    }

    public var name: String { PostgresPlanSectionKind.key }

    public func actions() -> [any RunbookAction] { registered }

    public var summaryRoles: [String: MoveSummaryRole] { ["postgres.fence": .fence, "postgres.promote": .promotion] }

    /// Every server the move touches must be reachable by name: the variables holding the old
    /// primary's and the promoted standby's URLs are set (checked before anything changes; the
    /// fence of a primary whose site is down still needs its URL to try).
    public func prepare(_ move: Move, plan: DRPlan) async throws -> (plan: DRPlan, warnings: [PreflightCheck]) {
        var missing: [String] = []
        for (database, standby) in plan.postgres.moving(from: move.from, to: move.to) {
            for (server, role) in [(database.primary, "primary"), (standby, "standby")] where (environment[server.urlEnv] ?? "").allSatisfy(\.isWhitespace) {
                missing.append("\(server.urlEnv) (the URL of database \(database.name)'s \(role) in \(server.site)) is not set")
            }
        }
        guard missing.isEmpty else { throw ProviderCredentialsMissing(provider: name, missing: missing) }
        return (plan, [])
    }

    public func moveSteps(_ move: Move, plan: DRPlan, ids: inout StepIdentifiers) throws -> [MoveStep] {
        let moving = plan.postgres.moving(from: move.from, to: move.to)
        guard move.kind == .failover || moving.isEmpty else {
            // A switchover promises no data loss: it would have to wait, after the fence, until the
            // standby has replayed everything — a wait drctl does not have for PostgreSQL yet.
            // Located at each database it concerns (exit 3 names file:line:column).
            throw RunbookValidationError(problems: moving.map { entry in
                RunbookProblem(location: entry.database.location, message: """
                    found database \(entry.database.name) of self-managed PostgreSQL in a switchover, expected a failover: \
                    a switchover (no data loss) of self-managed PostgreSQL is not supported yet; use failover (its RPO gate weighs the standby's lag)
                    """)
            })
        }
        var steps: [MoveStep] = []
        let transient = StepRetryPolicy(attempts: 3, backoff: 5, on: ["transient", "timeout"])
        for (database, standby) in moving {
            let fence = ids.make("fence", database.name)
            steps.append(MoveStep(RunbookStep(
                id: fence, call: call("postgres.fence", ["url_env": .string(database.primary.urlEnv), "method": .string(database.fence)]),
                timeout: 300, retry: transient, estimate: 30, onFailure: .ask,
                description: "stop writes on the old PostgreSQL primary in \(database.primary.site) if it answers (best effort)"), phase: .fence))
            let promote = ids.make("promote", database.name)
            steps.append(MoveStep(RunbookStep(
                id: promote, call: call("postgres.promote", ["url_env": .string(standby.urlEnv)]), needs: [fence],
                timeout: 600, retry: transient, estimate: 30,
                description: "promote the PostgreSQL standby in \(standby.site)"), phase: .promote))
            for check in database.checks {
                var arguments = check.with
                arguments["url_env"] = .string(standby.urlEnv)
                steps.append(MoveStep(RunbookStep(
                    id: ids.make("check", database.name, check.name), call: call(check.action, arguments), needs: [promote],
                    timeout: 300, retry: transient, estimate: 30,
                    description: "data check \(check.name) on the promoted \(database.name)"), phase: .dataCheck))
            }
        }
        return steps
    }

    private func call(_ action: String, _ arguments: [String: RunValue]) -> ActionCall {
        ActionCall(action: action, with: arguments.mapValues { Template(constant: $0) })
    }

    /// Per database that moves: the standby answers and is still a standby (blocking), the old
    /// primary answers (a warning in a failover: it may be the site that is down), and the
    /// standby's lag behind it — the data the move would lose (unknown when the primary does not answer).
    public func preflight(_ move: Move, plan: DRPlan) async -> PreflightFindings {
        let moving = plan.postgres.moving(from: move.from, to: move.to)
        let found = await moving.map { Pair(database: $0.database, server: $0.standby) }.concurrentMap { await check($0.database, standby: $0.server) }
        var findings = PreflightFindings()
        for part in found {
            findings.checks += part.checks
            findings.losses += part.losses
            findings.unknownLossReasons += part.unknownLossReasons
        }
        return findings
    }

    private func check(_ database: PostgresPlanSection.Database, standby: PostgresPlanSection.Server) async -> PreflightFindings {
        var findings = PreflightFindings()
        let name = "database \(database.name)"
        async let standbyState = invoke("postgres.timeline", ["url_env": .string(standby.urlEnv)])
        async let lag = invoke("postgres.replication-lag", ["url_env": .string(database.primary.urlEnv), "standby_url_env": .string(standby.urlEnv)])
        switch await standbyState {
        case .success(let outputs):
            let inRecovery = outputs["in_recovery"]?.boolValue ?? false
            findings.checks.append(PreflightCheck(name: "\(name) standby $\(standby.urlEnv) in \(standby.site)", ok: inRecovery,
                                                  detail: inRecovery ? "a streaming standby on timeline \(outputs["timeline_id"]?.description ?? "?")"
                                                                     : "not in recovery: it is already a primary (promoted outside drctl?)",
                                                  blocking: true))
        case .failure(let error):
            findings.checks.append(PreflightCheck(name: "\(name) standby $\(standby.urlEnv) in \(standby.site)", ok: false,
                                                  detail: "could not inspect: \(error)", blocking: true))
        }
        switch await lag {
        case .success(let outputs):
            if let seconds = Self.lagSeconds(outputs) {
                findings.losses.append(seconds)
                findings.checks.append(PreflightCheck(name: "\(name) replication lag", ok: true,
                                                      detail: "\(DurationText.format(seconds)) (\(outputs["lag_bytes"]?.description ?? "?") bytes of WAL)", blocking: false))
            } else {
                // Behind, with no replayed commit to date its data by: the loss is unknown, not infinite
                // (an infinite loss could never be accepted with --accept-data-loss).
                findings.unknownLossReasons.append("\(database.name): the standby is behind and has replayed no commit since it started")
                findings.checks.append(PreflightCheck(name: "\(name) replication lag", ok: false, detail: """
                    unknown: \(outputs["lag_bytes"]?.description ?? "?") bytes of WAL behind, and no commit replayed since the standby \
                    started\(outputs["replay_paused"]?.boolValue == true ? " (replay is paused)" : "")
                    """, blocking: false))
            }
            findings.checks.append(PreflightCheck(name: "\(name) fence (\(database.fence)) of $\(database.primary.urlEnv) in \(database.primary.site)",
                                                  ok: true, detail: "primary answers", blocking: true))
        case .failure(let error):
            // Usually the old primary is down: the standby's newest replayed commit still bounds the loss.
            if let bound = await standbyBound(standby) {
                findings.losses.append(bound)
                findings.checks.append(PreflightCheck(name: "\(name) replication lag", ok: false, detail: """
                    at most \(DurationText.format(bound)) (the age of the newest commit the standby replayed; \
                    the lag behind the primary is not readable: \(error))
                    """, blocking: false))
            } else {
                findings.unknownLossReasons.append("\(database.name): lag not readable")
                findings.checks.append(PreflightCheck(name: "\(name) replication lag", ok: false, detail: "unknown: \(error)", blocking: false))
            }
            findings.checks.append(PreflightCheck(name: "\(name) fence (\(database.fence)) of $\(database.primary.urlEnv) in \(database.primary.site)",
                                                  ok: false, detail: "the primary or the standby does not answer: the fence may not be confirmed", blocking: false))
        }
        return findings
    }

    /// `postgres.replication-lag`'s time behind; nil when not known (`lag_seconds` is infinite when
    /// the standby is behind but has replayed no commit since it started).
    static func lagSeconds(_ outputs: [String: RunValue]) -> Double? {
        guard let seconds = outputs["lag_seconds"]?.secondsValue, seconds.isFinite else { return nil }
        return seconds
    }

    /// The loss bound the standby alone gives (`ReplicationLag.bound`); nil when it gives none.
    private func standbyBound(_ standby: PostgresPlanSection.Server) async -> Double? {
        guard let target = try? PostgresActionTarget.resolve("url", in: ["url_env": .string(standby.urlEnv)]) else { return nil }
        return (try? await ReplicationLag.bound(standby: target)) ?? nil
    }

    public func posture(plan: DRPlan, now: Date) async -> [ProtectedResourcePosture] {
        guard let drSite = plan.drSites.first(where: { site in plan.postgres.databases.contains { $0.standby(in: site) != nil } }) else { return [] }
        let pairs = plan.postgres.databases.compactMap { database in database.standby(in: drSite).map { Pair(database: database, server: $0) } }
        return await pairs.concurrentMap { pair in
            let source = "$\(pair.server.urlEnv) (\(pair.server.site))"
            let age: RecoveryPointAge
            switch await invoke("postgres.replication-lag", ["url_env": .string(pair.database.primary.urlEnv), "standby_url_env": .string(pair.server.urlEnv)]) {
            case .success(let outputs):
                age = RecoveryPointAge(kind: .replicaLag, source: source, seconds: Self.lagSeconds(outputs),
                                       detail: "\(outputs["lag_bytes"]?.description ?? "?") bytes of WAL behind")
            case .failure(let error):
                age = RecoveryPointAge(kind: .replicaLag, source: source, seconds: nil, detail: "not readable: \(error)")
            }
            return ProtectedResourcePosture(name: pair.database.name, type: "database", recoveryPoints: [age])
        }
    }

    /// Each server of the plan: the role drctl connects as, the server's version, whether it is a
    /// primary or a standby (and on which timeline) — what to check before a failover.
    public func identities(plan: DRPlan) async -> [ProviderIdentity] {
        let servers = plan.postgres.databases.flatMap { database in
            [Pair(database: database, server: database.primary, role: "primary")] + database.standbys.map { Pair(database: database, server: $0) }
        }
        return await servers.concurrentMap { entry in
            let endpoint = "$\(entry.server.urlEnv) (\(entry.database.name) \(entry.role) in \(entry.server.site))"
            do {
                let target = try PostgresActionTarget.resolve("url", in: ["url_env": .string(entry.server.urlEnv)], environment: environment)
                let row = try await target.with { connection in
                    try await connection.query("""
                        SELECT current_user, current_setting('server_version'), pg_is_in_recovery(),
                               (SELECT timeline_id FROM pg_control_checkpoint())
                        """).first
                }
                let inRecovery = row?.text(2) == "t"
                return ProviderIdentity(endpoint: endpoint, facts: [
                    .init("server", target.display), .init("user", row?.text(0) ?? "?"), .init("version", row?.text(1) ?? "?"),
                    .init("role", inRecovery ? "standby (in recovery)" : "primary"), .init("timeline", row?.text(3) ?? "?"),
                ])
            } catch let error as ActionError where [.transient, .timeout].contains(error.kind) {
                return ProviderIdentity(endpoint: endpoint, facts: [], error: "\(error)", failure: .unreachable)
            } catch {
                return ProviderIdentity(endpoint: endpoint, facts: [], error: "\(error)", failure: .credentials)
            }
        }
    }

    private func invoke(_ name: String, _ arguments: [String: RunValue]) async -> Result<[String: RunValue], any Error> {
        await ActionInvocation.readOnly(name, among: registered, arguments: arguments, purpose: "preflight")
    }

    /// A database and one of its servers (the standby a move promotes, or any server for `identities`).
    private struct Pair: Sendable {
        let database: PostgresPlanSection.Database
        let server: PostgresPlanSection.Server
        var role = "standby"
    }
}
