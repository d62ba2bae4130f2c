import AWSProvider
import DRCore
import PostgresProvider

/// The catalogue drctl validates runbooks against: the built-in actions, AWS's and self-managed
/// PostgreSQL's (as `EngineSession.registry` builds it). Nothing here is ever called: the fuzz
/// targets only validate.
enum ActionCatalogs {
    /// The providers drctl registers, with clients that never call anything.
    static let providers: [any DRProvider] = [
        AWSCloudProvider(client: AWSClient(transport: NoTransport(), credentials: NoCredentials(), endpoints: StaticEndpointResolver())),
        PostgresProvider(),
    ]

    static let full: ActionCatalog = {
        var registry = ActionRegistry.builtIns
        for provider in providers { provider.actions().forEach { registry.register($0) } }
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
