import DRCore
import Foundation

/// Credentials from the ECS task / EKS Pod Identity endpoint:
/// https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html
///
/// - `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is appended to `http://169.254.170.2`.
/// - `AWS_CONTAINER_CREDENTIALS_FULL_URI` is used as is, but plain http only to a loopback address
///   or the ECS/EKS link-local hosts, as the SDKs allow, so a stray variable cannot send the
///   authorization token to an arbitrary host in clear text.
/// - `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read on every request; EKS rotates it) or else
///   `AWS_CONTAINER_AUTHORIZATION_TOKEN` is sent as `Authorization`.
public struct ContainerCredentialProvider: CredentialProvider {
    static let providerName = "container"
    /// Hosts allowed over plain http besides 127.0.0.0/8 and ::1 (botocore's list).
    static let allowedHTTPHosts: Set<String> = ["localhost", "169.254.170.2", "169.254.170.23", "fd00:ec2::23"]

    private let environment: [String: String]
    private let transport: any HTTPTransport
    private let relativeURIBase: String
    private let timeouts: HTTPTimeouts

    /// - Parameter relativeURIBase: where relative URIs point; tests pass a local server, nothing
    ///   else should change it.
    public init(environment: [String: String], transport: any HTTPTransport,
                relativeURIBase: String = "http://169.254.170.2",
                timeouts: HTTPTimeouts = HTTPTimeouts(connect: .seconds(1), total: .seconds(5))) {
        self.environment = environment
        self.transport = transport
        self.relativeURIBase = relativeURIBase
        self.timeouts = timeouts
    }

    private func value(_ key: String) -> String? {
        environment[key].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The endpoint URL, or `notFound` when neither variable is set.
    func endpoint() throws -> String {
        if let relative = value("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            return relativeURIBase + (relative.hasPrefix("/") ? relative : "/" + relative)
        }
        guard let full = value("AWS_CONTAINER_CREDENTIALS_FULL_URI") else {
            throw CredentialError.notFound(Self.providerName,
                                           "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set")
        }
        let lower = full.lowercased()
        if lower.hasPrefix("https://") { return full }
        guard lower.hasPrefix("http://"), let host = URLComponents(string: lower)?.host, Self.isAllowedHTTPHost(host) else {
            throw CredentialError(kind: .invalidConfiguration, provider: Self.providerName,
                                  message: "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback or ECS/EKS host (got \(RedactedURL.describe(full)))")
        }
        return full
    }

    static func isAllowedHTTPHost(_ host: String) -> Bool {
        let host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if allowedHTTPHosts.contains(host) || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    func authorization() throws -> String? {
        var token: String?
        if let file = value("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CredentialError(kind: .invalidConfiguration, provider: Self.providerName,
                                      message: "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(file)")
            }
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            token = value("AWS_CONTAINER_AUTHORIZATION_TOKEN")
        }
        // A line break would let the token inject headers.
        if let token, token.contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw CredentialError(kind: .invalidConfiguration, provider: Self.providerName,
                                  message: "the container authorization token contains a line break")
        }
        return token
    }

    public func resolve() async throws -> ResolvedCredentials {
        let url = try endpoint()
        var headers: HTTPHeaders = ["Accept": "application/json"]
        if let token = try authorization() { headers.add("Authorization", token) }
        let request = HTTPRequest(method: "GET", url: url, headers: headers, timeouts: timeouts)
        let response = try await Self.send(request, via: transport)
        guard response.status == 200 else {
            throw CredentialError(kind: .httpFailed, provider: Self.providerName,
                                  message: "\(RedactedURL.describe(url)) returned HTTP \(response.status)")
        }
        let document = try CredentialDocument(Data(response.body), provider: Self.providerName, errorKind: .invalidResponse)
        return ResolvedCredentials(credentials: try document.credentials(tokenKey: "Token"), source: .container)
    }

    /// Up to three tries on connection failures and 5xx, as the SDKs do for this local endpoint;
    /// no backoff, since the endpoint is on the same host or link.
    static func send(_ request: HTTPRequest, via transport: any HTTPTransport) async throws -> HTTPResponse {
        let attempts = 3
        var attempt = 0
        while true {
            attempt += 1
            do {
                let response = try await transport.send(request)
                if response.status >= 500, attempt < attempts { continue }
                return response
            } catch let error as TransportError {
                if error.isRetryable, attempt < attempts { continue }
                throw CredentialError(kind: .httpFailed, provider: providerName,
                                      message: "no answer from \(RedactedURL.describe(request.url))", underlying: error)
            }
        }
    }
}

/// The stored environment may hold secret keys, so the default reflection-based description is replaced.
extension ContainerCredentialProvider: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "ContainerCredentialProvider" }
    public var debugDescription: String { description }
}
