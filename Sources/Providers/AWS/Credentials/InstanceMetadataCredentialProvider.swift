import DRCore
import Foundation

/// The EC2 instance role's credentials over IMDSv2:
/// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-retrieval.html
///
/// 1. `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` for a session token;
/// 2. `GET /latest/meta-data/iam/security-credentials/` for the role name;
/// 3. `GET /latest/meta-data/iam/security-credentials/<role>` for the credentials.
/// Every GET carries `X-aws-ec2-metadata-token`. There is no IMDSv1 fallback: instances that
/// still require v1 are a configuration to fix, not to support silently.
///
/// Off EC2 nothing answers at 169.254.169.254, so connection failures mean `notFound` and the
/// connect timeout is one second, keeping a laptop's chain from hanging.
public struct InstanceMetadataCredentialProvider: CredentialProvider {
    static let providerName = "instance metadata"
    static let tokenTTLSeconds = 21600
    static let credentialsPath = "/latest/meta-data/iam/security-credentials/"

    private let environment: [String: String]
    private let transport: any HTTPTransport
    private let timeouts: HTTPTimeouts

    public init(environment: [String: String], transport: any HTTPTransport,
                timeouts: HTTPTimeouts = HTTPTimeouts(connect: .seconds(1), total: .seconds(3))) {
        self.environment = environment
        self.transport = transport
        self.timeouts = timeouts
    }

    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else by `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE`.
    var endpoint: String {
        var base = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"]?.lowercased() == "ipv6"
                ? "http://[fd00:ec2::254]" : "http://169.254.169.254")
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    var isDisabled: Bool {
        environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true"
    }

    public func resolve() async throws -> ResolvedCredentials {
        guard !isDisabled else {
            throw CredentialError.notFound(Self.providerName, "disabled by AWS_EC2_METADATA_DISABLED")
        }
        let token = try await fetchToken()
        let tokenHeader: HTTPHeaders = ["X-aws-ec2-metadata-token": token]

        let listing = try await get(Self.credentialsPath, headers: tokenHeader, notFoundMeans: "the instance has no IAM role")
        guard let role = listing.split(whereSeparator: \.isNewline).first.map(String.init), !role.isEmpty else {
            throw CredentialError.notFound(Self.providerName, "the instance has no IAM role")
        }
        let body = try await get(Self.credentialsPath + role, headers: tokenHeader,
                                 notFoundMeans: "the instance role's credentials are not available")
        let document = try CredentialDocument(Data(body.utf8), provider: Self.providerName, errorKind: .invalidResponse)
        if let code = document.string("Code"), code != "Success" {
            throw CredentialError(kind: .invalidResponse, provider: Self.providerName,
                                  message: "instance metadata returned Code \(code)")
        }
        return ResolvedCredentials(credentials: try document.credentials(tokenKey: "Token"), source: .instanceMetadata)
    }

    private func fetchToken() async throws -> String {
        let request = HTTPRequest(method: "PUT", url: endpoint + "/latest/api/token",
                                  headers: ["X-aws-ec2-metadata-token-ttl-seconds": String(Self.tokenTTLSeconds)],
                                  timeouts: timeouts)
        let response = try await send(request)
        guard response.status == 200, !response.body.isEmpty else {
            throw CredentialError(kind: .httpFailed, provider: Self.providerName,
                                  message: "IMDSv2 token request returned HTTP \(response.status)")
        }
        return response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func get(_ path: String, headers: HTTPHeaders, notFoundMeans: String) async throws -> String {
        let response = try await send(HTTPRequest(method: "GET", url: endpoint + path, headers: headers, timeouts: timeouts))
        if response.status == 404 { throw CredentialError.notFound(Self.providerName, notFoundMeans) }
        guard response.status == 200 else {
            // The path may hold the role name, which is not secret; the body is never shown.
            throw CredentialError(kind: .httpFailed, provider: Self.providerName,
                                  message: "GET \(path) returned HTTP \(response.status)")
        }
        return response.bodyText
    }

    /// No metadata service at all (not on EC2) is `notFound`; anything else is a real failure.
    private func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        do {
            return try await transport.send(request)
        } catch let error as TransportError {
            switch error.kind {
            case .connect, .connectTimeout, .resolve, .timeout:
                throw CredentialError(kind: .notFound, provider: Self.providerName,
                                      message: "no instance metadata service at \(endpoint)", underlying: error)
            default:
                throw CredentialError(kind: .httpFailed, provider: Self.providerName,
                                      message: "request to \(endpoint) failed", underlying: error)
            }
        }
    }
}

/// The stored environment may hold secret keys, so the default reflection-based description is replaced.
extension InstanceMetadataCredentialProvider: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "InstanceMetadataCredentialProvider(\(endpoint))" }
    public var debugDescription: String { description }
}
