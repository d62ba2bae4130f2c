import AWSProvider
import DRCore

/// The catalogue drctl validates runbooks against: the built-in actions, AWS's and self-managed
/// PostgreSQL's (as `EngineSession.registry` builds it). Nothing here is ever called: the fuzz
/// targets only validate.
enum ActionCatalogs {
    static let full: ActionCatalog = {
        var registry = ActionRegistry.builtIns
        let client = AWSClient(transport: NoTransport(), credentials: NoCredentials(), endpoints: StaticEndpointResolver())
        for action in AWSActions.all(client: client) { registry.register(action) }
        for action: any RunbookAction in [PostgresReplicationLagAction(), PostgresPromoteAction(), PostgresFenceAction(),
                                          PostgresTimelineAction(), PostgresCheckRowsAction(), PostgresCheckFreshnessAction(),
                                          PostgresCheckChecksumAction(), PostgresCheckSQLAction(), PostgresHeartbeatRPOAction()] {
            registry.register(action)
        }
        return registry.catalog
    }()

    static let fullNames: Set<String> = Set(full.actions.keys)

    private struct NoTransport: HTTPTransport {
        func send(_ request: HTTPRequest) async throws -> HTTPResponse { throw Unused() }
    }

    private struct NoCredentials: CredentialProvider {
        func resolve() async throws -> ResolvedCredentials { throw Unused() }
    }

    private struct Unused: Error {}
}
