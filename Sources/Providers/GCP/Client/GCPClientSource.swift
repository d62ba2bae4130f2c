import DRCore
import Foundation

/// The `GCPClient` the actions share, made on first use: resolving Application Default
/// Credentials reads files and may call the metadata server, which listing the actions
/// (`drctl actions`, runbook validation) must never do. A failed resolution is not cached: the
/// next call tries again (the metadata server may have come up).
public final class GCPClientSource: Sendable {
    private actor Cache {
        var base: GCPClient?
        var pending: Task<GCPClient, any Error>?
        /// One client per caller: each impersonated account has its own token cache.
        var clients: [GCPCaller: GCPClient] = [:]

        func get(_ make: @escaping @Sendable () async throws -> GCPClient) async throws -> GCPClient {
            if let base { return base }
            if let pending { return try await pending.value }
            let task = Task { try await make() }
            pending = task
            defer { pending = nil }
            let made = try await task.value
            base = made
            return made
        }

        func get(for caller: GCPCaller, _ make: @escaping @Sendable () async throws -> GCPClient) async throws -> GCPClient {
            let base = try await get(make)
            guard caller != GCPCaller() else { return base }
            if let client = clients[caller] { return client }
            let client = base.acting(as: caller)
            clients[caller] = client
            return client
        }
    }

    private let cache = Cache()
    private let make: @Sendable () async throws -> GCPClient

    public init(make: @escaping @Sendable () async throws -> GCPClient) {
        self.make = make
    }

    /// A source that always hands out `client` (tests, and callers that built one already).
    public convenience init(client: GCPClient) {
        self.init(make: { client })
    }

    /// The client for the calls of the current task's caller (`GCPCaller.current`).
    public func client() async throws -> GCPClient {
        try await client(for: GCPCaller.current)
    }

    public func client(for caller: GCPCaller) async throws -> GCPClient {
        try await cache.get(for: caller, make)
    }
}

/// Path segments as Google's REST paths take them: a project, instance or zone name, percent-encoded
/// so that a stray `/` or `?` can never address another resource.
enum GCPPath {
    /// RFC 3986 unreserved characters, ASCII only.
    static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}
