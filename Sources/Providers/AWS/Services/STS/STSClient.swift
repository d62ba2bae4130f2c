import DRCore
import Foundation

/// AWS Security Token Service over the Query protocol.
/// https://docs.aws.amazon.com/STS/latest/APIReference/welcome.html
public struct STSClient: Sendable {
    public struct CallerIdentity: Sendable, Equatable, Codable {
        public let account: String
        public let arn: String
        public let userId: String
    }

    let client: AWSClient
    let service = AWSServiceDescriptor.sts

    public init(client: AWSClient) { self.client = client }

    public func getCallerIdentity(region: String) async throws -> CallerIdentity {
        let request = QueryProtocol.request(action: "GetCallerIdentity", version: service.apiVersion, parameters: QueryParameters())
        let response = try await client.send(request, service: service, region: region)
        let result = try QueryProtocol.result(of: response, action: "GetCallerIdentity")
        guard let account = result.string("Account"), let arn = result.string("Arn") else {
            throw AWSResponseError(operation: "GetCallerIdentity", reason: "Account or Arn missing", httpStatus: response.status)
        }
        return CallerIdentity(account: account, arn: arn, userId: result.string("UserId") ?? "")
    }

    static func credentials(in result: XMLNode, operation: String, status: Int) throws -> AWSCredentials {
        guard let node = result.child("Credentials"), let keyId = node.string("AccessKeyId"),
              let secret = node.string("SecretAccessKey") else {
            throw AWSResponseError(operation: operation, reason: "Credentials missing", httpStatus: status)
        }
        let expiration = node.string("Expiration").flatMap(ISO8601.parse)
        return AWSCredentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: node.string("SessionToken"), expiration: expiration)
    }
}

/// STS as the credential chain's `SecurityTokenService`. Its own client signs with the source
/// credentials (AssumeRole) or not at all (web identity).
public struct STSTokenService: SecurityTokenService {
    let transport: any HTTPTransport
    let endpoints: any AWSEndpointResolving

    public init(transport: any HTTPTransport, endpoints: any AWSEndpointResolving) {
        self.transport = transport
        self.endpoints = endpoints
    }

    public func assumeRole(roleArn: String, sessionName: String, externalId: String?, durationSeconds: Int?,
                           using credentials: AWSCredentials, region: String) async throws -> AWSCredentials {
        let client = AWSClient(transport: transport, credentials: StaticCredentialProvider(credentials), endpoints: endpoints)
        var parameters = QueryParameters()
        parameters.set("RoleArn", roleArn)
        parameters.set("RoleSessionName", sessionName)
        parameters.set("ExternalId", externalId)
        parameters.set("DurationSeconds", durationSeconds)
        let request = QueryProtocol.request(action: "AssumeRole", version: AWSServiceDescriptor.sts.apiVersion, parameters: parameters)
        let response = try await client.send(request, service: .sts, region: region)
        let result = try QueryProtocol.result(of: response, action: "AssumeRole")
        return try STSClient.credentials(in: result, operation: "AssumeRole", status: response.status)
    }

    public func assumeRoleWithWebIdentity(roleArn: String, sessionName: String, webIdentityToken: String,
                                          durationSeconds: Int?, region: String) async throws -> AWSCredentials {
        let client = AWSClient(transport: transport, credentials: StaticCredentialProvider(nil), endpoints: endpoints)
        var parameters = QueryParameters()
        parameters.set("RoleArn", roleArn)
        parameters.set("RoleSessionName", sessionName)
        parameters.set("WebIdentityToken", webIdentityToken)
        parameters.set("DurationSeconds", durationSeconds)
        let request = QueryProtocol.request(action: "AssumeRoleWithWebIdentity", version: AWSServiceDescriptor.sts.apiVersion,
                                            parameters: parameters, authentication: .none)
        let response = try await client.send(request, service: .sts, region: region)
        let result = try QueryProtocol.result(of: response, action: "AssumeRoleWithWebIdentity")
        return try STSClient.credentials(in: result, operation: "AssumeRoleWithWebIdentity", status: response.status)
    }
}

/// Fixed credentials (already resolved, or none for unsigned calls).
public struct StaticCredentialProvider: CredentialProvider {
    let credentials: AWSCredentials?
    let source: CredentialSource

    public init(_ credentials: AWSCredentials?, source: CredentialSource = .explicit) {
        self.credentials = credentials
        self.source = source
    }

    public func resolve() async throws -> ResolvedCredentials {
        guard let credentials else {
            throw AWSResponseError(operation: "credentials", reason: "no credentials for a signed call", httpStatus: 0)
        }
        return ResolvedCredentials(credentials: credentials, source: source)
    }
}

enum ISO8601 {
    /// AWS timestamps: "2026-11-26T15:44:31Z", with or without fractional seconds.
    static func parse(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
