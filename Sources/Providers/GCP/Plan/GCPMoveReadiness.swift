import DRCore
import Foundation

/// What a move into (or out of) Google Cloud needs before anything changes: usable credentials,
/// and each Cloud SQL replica it will promote, readable in the plan's project. Found before the
/// first step (`DRProvider.prepare`), so that a malformed key file, a rejected key, a project that
/// does not exist or is not ours, an unknown instance or a missing permission end the command with
/// its own exit code (10, 8, 8, 9, 8) and what and where — instead of a failed preflight (exit 1)
/// or an unknown data loss refused by the RPO gate (exit 4).
extension GCPCloudProvider {
    public func prepare(_ move: Move, plan: DRPlan) async throws -> (plan: DRPlan, warnings: [PreflightCheck]) {
        let gcp = plan.gcp
        guard gcp.hasWork(from: move.from, to: move.to) else { return (plan, []) }
        _ = try await identity(as: gcp.caller)
        try await GCPCaller.$current.withValue(gcp.caller) { try await replicasExist(move, plan: plan) }
        return (plan, [])
    }

    private func replicasExist(_ move: Move, plan: DRPlan) async throws {
        let gcp = plan.gcp
        let sql = CloudSQLClient(source: source)
        let deadline = Date().addingTimeInterval(120)
        for (database, replica) in gcp.moving(from: move.from, to: move.to) {
            let what = "plan \(plan.name), gcp database \(database.name): replica \(replica.instance) in project \(gcp.project)"
            let found: SQLInstance?
            do {
                found = try await sql.instance(project: gcp.project, name: replica.instance, deadline: deadline)
            } catch let error as GCPServiceError {
                throw GCPPlanResourceProblem(what: what, cause: error)
            }
            guard found != nil else {
                throw GCPPlanResourceProblem(what: what, kind: .notFound, detail: "no such Cloud SQL instance (sqladmin.instances.get: 404)")
            }
        }
    }
}

/// A resource of the plan's `gcp:` section that Google Cloud refuses or does not have. Its
/// `description` names the plan, the database, the instance and the project, and Google's answer
/// (never a token).
public struct GCPPlanResourceProblem: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The credentials work, but not here: no permission, or the project is not there or not ours (exit 8).
        case permissionDenied
        /// The plan names what the project does not have (exit 9: the cloud's answer).
        case notFound
        /// Anything else Google answered (exit 9).
        case cloud
    }

    public let what: String
    public let kind: Kind
    public let detail: String

    public init(what: String, kind: Kind, detail: String) {
        self.what = what
        self.kind = kind
        self.detail = detail
    }

    init(what: String, cause: GCPServiceError) {
        let kind: Kind = switch cause.category {
        case .permissionDenied, .authentication: .permissionDenied
        case .notFound: .notFound
        default: .cloud
        }
        self.init(what: what, kind: kind, detail: cause.description)
    }

    public var description: String { "\(what): \(detail)" }
}
