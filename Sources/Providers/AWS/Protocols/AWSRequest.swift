import DRCore

/// One operation's HTTP request before endpoint, signing and retries: what every wire protocol
/// encodes to and what the shared client sends.
public struct AWSRequest: Sendable {
    public enum Authentication: Sendable {
        /// SigV4 with the payload hash in the signature.
        case signed
        /// SigV4 with `UNSIGNED-PAYLOAD` (large S3 bodies).
        case signedUnsignedPayload
        /// No signature (STS AssumeRoleWithWebIdentity: the token is the proof).
        case none
    }

    public var operation: String
    public var method: String
    /// The path as it goes on the wire, already percent-encoded, starting with "/".
    public var path: String
    /// Query parameters, not yet encoded.
    public var query: [(String, String)]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    public var authentication: Authentication

    public init(operation: String, method: String, path: String = "/", query: [(String, String)] = [],
                headers: HTTPHeaders = [:], body: [UInt8] = [], authentication: Authentication = .signed) {
        self.operation = operation
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.authentication = authentication
    }

    /// The encoded query string, "" when there are no parameters. A parameter with an empty value
    /// is sent bare (`?replication`), as S3 sub-resources are.
    public var encodedQuery: String {
        query.map { $0.1.isEmpty ? URIEncoding.encode($0.0) : "\(URIEncoding.encode($0.0))=\(URIEncoding.encode($0.1))" }
            .joined(separator: "&")
    }
}

/// Encodes a path label as REST protocols do: every byte but the unreserved ones, keeping "/"
/// when the label is greedy (S3 keys: "a//b c" → "a//b%20c", no normalisation).
public func encodePathLabel(_ value: String, greedy: Bool) -> String {
    URIEncoding.encode(value, keepSlash: greedy)
}
