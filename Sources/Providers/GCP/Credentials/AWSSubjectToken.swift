import AWSProvider
import DRCore
import Foundation

/// The subject token of an AWS-sourced workload identity federation configuration: a SigV4-signed
/// STS `GetCallerIdentity` request, serialized as google-auth's `aws.Credentials.retrieve_subject_token`
/// does (https://cloud.google.com/iam/docs/workload-identity-federation-with-other-clouds):
/// `quote(json.dumps({"url","method","headers":[{"key","value"}…]}, separators=(",",":"), sort_keys=True))`,
/// headers in google-auth's order (`Authorization`, `host`, `x-amz-date`, `x-amz-security-token`,
/// then `x-goog-cloud-target-resource` = the audience, which is not signed). Google's STS replays it
/// to AWS, which answers who the caller is.
///
/// Region: `AWS_REGION` > `AWS_DEFAULT_REGION` > the instance's availability zone from `region_url`
/// without its letter. Credentials: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`),
/// else the instance role's from `url` (IMDSv2 when `imdsv2_session_token_url` is given).
struct AWSSubjectToken {
    let source: AWSCredentialSource
    let audience: String
    let environment: [String: String]
    let transport: any HTTPTransport
    let sourceName: String
    let now: @Sendable () -> Date

    func make() async throws -> String {
        let session = try await imdsSessionToken()
        let region = try await self.region(session: session)
        let credentials = try await self.credentials(session: session)
        let url = source.verificationURL.replacingOccurrences(of: "{region}", with: region)
        let signed = SigV4Signer(credentials: credentials, region: region, service: "sts")
            .sign(method: "POST", url: url, payload: .empty, date: now())
        var headers: [(String, String)] = [("Authorization", signed.headers["Authorization"] ?? ""),
                                           ("host", signed.headers["Host"] ?? ""), ("x-amz-date", signed.headers["X-Amz-Date"] ?? "")]
        if let token = credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        headers.append(("x-goog-cloud-target-resource", audience))
        let headerList = "[" + headers.map { "{\"key\":\(JSONText.string($0.0)),\"value\":\(JSONText.string($0.1))}" }.joined(separator: ",") + "]"
        let request = "{\"headers\":\(headerList),\"method\":\"POST\",\"url\":\(JSONText.string(url))}"
        // urllib.parse.quote: unreserved characters and "/" stay.
        let safe = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")
        return request.addingPercentEncoding(withAllowedCharacters: safe) ?? request
    }

    private func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }

    private func region(session: String?) async throws -> String {
        if let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") { return region }
        guard let url = source.regionURL else {
            throw GoogleAuthError(kind: .invalidConfiguration, source: sourceName,
                                  message: "no AWS region: set AWS_REGION, or credential_source.region_url")
        }
        let zone = try await get(url, session: session, what: "the availability zone")
        return String(zone.dropLast())
    }

    private func credentials(session: String?) async throws -> AWSCredentials {
        if let key = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") {
            return AWSCredentials(accessKeyId: key, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"))
        }
        guard let url = source.credentialsURL else {
            throw GoogleAuthError(kind: .notFound, source: sourceName,
                                  message: "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or credential_source.url")
        }
        let role = try await get(url, session: session, what: "the instance role").split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let body = try await get(url + "/" + role, session: session, what: "the instance role's credentials")
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let key = object["AccessKeyId"] as? String, let secret = object["SecretAccessKey"] as? String else {
            throw GoogleAuthError(kind: .invalidResponse, source: sourceName, message: "the instance role's credentials are not AccessKeyId/SecretAccessKey")
        }
        return AWSCredentials(accessKeyId: key, secretAccessKey: secret, sessionToken: object["Token"] as? String)
    }

    private func imdsSessionToken() async throws -> String? {
        guard let url = source.imdsv2SessionTokenURL else { return nil }
        // Only needed when the environment does not already say the region and hold the keys.
        if value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") != nil, value("AWS_ACCESS_KEY_ID") != nil, value("AWS_SECRET_ACCESS_KEY") != nil { return nil }
        let response = try await send(HTTPRequest(method: "PUT", url: url, headers: ["X-aws-ec2-metadata-token-ttl-seconds": "300"]), what: "the IMDSv2 session token")
        return response.bodyText
    }

    private func get(_ url: String, session: String?, what: String) async throws -> String {
        var headers: HTTPHeaders = [:]
        if let session { headers.add("X-aws-ec2-metadata-token", session) }
        return try await send(HTTPRequest(method: "GET", url: url, headers: headers), what: what).bodyText
    }

    private func send(_ request: HTTPRequest, what: String) async throws -> HTTPResponse {
        var timed = request
        timed.timeouts = HTTPTimeouts(connect: .seconds(2), total: .seconds(5))
        let response: HTTPResponse
        do {
            response = try await transport.send(timed)
        } catch let error as TransportError {
            throw GoogleAuthError(kind: .unavailable, source: sourceName, message: "\(what) from \(RedactedURL.describe(request.url)) failed", underlying: error)
        }
        guard response.status == 200 else {
            throw GoogleAuthError(kind: .rejected, source: sourceName, message: "\(what) from \(RedactedURL.describe(request.url)) answered HTTP \(response.status)")
        }
        return response
    }
}
