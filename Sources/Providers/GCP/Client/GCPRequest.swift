import Foundation

/// One call of a Google JSON REST API, before authentication: the service, the method id of its
/// discovery document (for logs, errors and the stand-in's call counts), the HTTP method, the
/// path under the service's root (`v1/projects/p/instances/i`, already percent-encoded), the query
/// and the JSON body.
public struct GCPRequest: Sendable {
    public var service: GCPService
    /// `sqladmin.instances.get`.
    public var methodId: String
    public var httpMethod: String
    public var path: String
    public var query: [(String, String)]
    public var body: Data?
    /// The body's media type: JSON, except for a media upload (`upload/storage/v1/…?uploadType=media`).
    public var contentType = "application/json"
    /// Whether sending it twice does what sending it once does. GET, PUT and DELETE are; POST and
    /// PATCH only when the caller says (a `requestId`, a name derived from the run): otherwise a
    /// retry happens only when the request provably never reached the server.
    public var isIdempotent: Bool

    public init(service: GCPService, methodId: String, httpMethod: String, path: String, query: [(String, String)] = [],
                body: Data? = nil, isIdempotent: Bool? = nil) {
        self.service = service
        self.methodId = methodId
        self.httpMethod = httpMethod
        self.path = path
        self.query = query
        self.body = body
        self.isIdempotent = isIdempotent ?? ["GET", "HEAD", "PUT", "DELETE"].contains(httpMethod)
    }

    /// A request with a JSON body encoded from `value`.
    public init<Body: Encodable>(service: GCPService, methodId: String, httpMethod: String, path: String,
                                 query: [(String, String)] = [], json value: Body, isIdempotent: Bool? = nil) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        self.init(service: service, methodId: methodId, httpMethod: httpMethod, path: path, query: query,
                  body: try encoder.encode(value), isIdempotent: isIdempotent)
    }

    var encodedQuery: String {
        query.map { FormEncoding.escape($0.0) + "=" + FormEncoding.escape($0.1) }.joined(separator: "&")
    }
}
