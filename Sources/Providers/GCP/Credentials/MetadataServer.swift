import DRCore
import Foundation

/// The GCE / GKE / Cloud Run metadata server (https://cloud.google.com/compute/docs/metadata/querying-metadata):
/// every request carries `Metadata-Flavor: Google` and a real server answers with the same header.
/// `GCE_METADATA_HOST` (host[:port], google-auth's variable; `GCE_METADATA_ROOT` is its old name)
/// moves it; `NO_GCE_CHECK=true` skips it. Off Google Cloud nothing answers: the probe's connect
/// timeout is short, so a laptop's lookup ends in about a second rather than hanging.
public struct MetadataServer: Sendable {
    public let host: String
    let transport: any HTTPTransport
    let probeTimeouts: HTTPTimeouts
    let timeouts = HTTPTimeouts(connect: .seconds(3), total: .seconds(10))

    public init(environment: [String: String], transport: any HTTPTransport,
                probeTimeouts: HTTPTimeouts = HTTPTimeouts(connect: .milliseconds(500), total: .seconds(1))) {
        func nonEmpty(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        // Without a configured host the link-local address, as google-auth's probe uses it
        // (`GCE_METADATA_IP`): no DNS lookup of metadata.google.internal that could stall off GCE.
        host = nonEmpty("GCE_METADATA_HOST") ?? nonEmpty("GCE_METADATA_ROOT") ?? nonEmpty("GCE_METADATA_IP") ?? "169.254.169.254"
        self.transport = transport
        self.probeTimeouts = probeTimeouts
    }

    public static func isDisabled(_ environment: [String: String]) -> Bool {
        ["true", "1"].contains(environment["NO_GCE_CHECK"]?.lowercased() ?? "")
    }

    var root: String { "http://\(host)/computeMetadata/v1/" }

    /// Whether a metadata server answers here (google-auth `_metadata.is_on_gce`).
    public func isAvailable() async -> Bool {
        let request = HTTPRequest(method: "GET", url: root + "project/project-id", headers: ["Metadata-Flavor": "Google"], timeouts: probeTimeouts)
        guard let response = try? await transport.send(request) else { return false }
        return response.headers["Metadata-Flavor"] == "Google"
    }

    public func get(_ path: String) async throws -> String {
        let request = HTTPRequest(method: "GET", url: root + path, headers: ["Metadata-Flavor": "Google"], timeouts: timeouts)
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch let error as TransportError {
            throw GoogleAuthError(kind: .unavailable, source: "metadata server", message: "GET \(path) failed", underlying: error)
        }
        guard response.status == 200 else {
            throw GoogleAuthError(kind: response.status == 404 || response.status == 403 ? .rejected : .unavailable,
                                  source: "metadata server", message: "GET \(path) answered HTTP \(response.status)")
        }
        return response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The default service account's token from the metadata server (`?scopes=` as google-auth's
/// `compute_engine._metadata.get_service_account_token` sends them, comma-separated).
public struct MetadataServerTokenSource: GoogleTokenSource {
    let server: MetadataServer
    let endpoint: TokenEndpoint
    let now: @Sendable () -> Date

    init(server: MetadataServer, endpoint: TokenEndpoint, now: @escaping @Sendable () -> Date = { Date() }) {
        self.server = server
        self.endpoint = endpoint
        self.now = now
    }

    public func token(scopes: [String]) async throws -> GoogleAccessToken {
        var url = server.root + "instance/service-accounts/default/token"
        if !scopes.isEmpty { url += "?scopes=" + FormEncoding.escape(scopes.joined(separator: ",")) }
        let issued = now()
        let request = HTTPRequest(method: "GET", url: url, headers: ["Metadata-Flavor": "Google"], timeouts: server.timeouts)
        let object = try await endpoint.call(request, source: "metadata server", what: "the metadata server's token", secrets: [])
        return try TokenEndpoint.oauthToken(object, source: "metadata server", now: issued)
    }
}
