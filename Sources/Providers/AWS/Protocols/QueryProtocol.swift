import DRCore

/// The AWS Query protocol (RDS, STS, Auto Scaling, CloudWatch): form-encoded POST with `Action`
/// and `Version`, XML responses wrapped in `<ActionResponse><ActionResult>`.
/// https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
public enum QueryProtocol {
    public static func request(action: String, version: String, parameters: QueryParameters,
                               authentication: AWSRequest.Authentication = .signed) -> AWSRequest {
        var pairs: [(String, String)] = [("Action", action), ("Version", version)]
        pairs.append(contentsOf: parameters.pairs)
        let body = pairs.map { "\(URIEncoding.encode($0.0))=\(URIEncoding.encode($0.1))" }.joined(separator: "&")
        return AWSRequest(operation: action, method: "POST", path: "/",
                          headers: ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"],
                          body: Array(body.utf8), authentication: authentication)
    }

    /// The `<ActionResult>` element of a successful response.
    public static func result(of response: HTTPResponse, action: String) throws -> XMLNode {
        let root = try AWSResponseDecoding.xml(response, operation: action)
        return root.child("\(action)Result") ?? root
    }
}

/// Query parameters with the protocol's flattening rules for lists and maps
/// (`Filters.Filter.1.Name`, `Tags.member.1.Key`).
public struct QueryParameters: Sendable {
    public private(set) var pairs: [(String, String)] = []

    public init() {}

    public mutating func set(_ name: String, _ value: String?) {
        guard let value else { return }
        pairs.append((name, value))
    }

    public mutating func set(_ name: String, _ value: Int?) {
        set(name, value.map(String.init))
    }

    public mutating func set(_ name: String, _ value: Bool?) {
        set(name, value.map { $0 ? "true" : "false" })
    }

    /// `name.member.1`, `name.member.2`, … (or another member name, e.g. RDS's `Filter`).
    public mutating func setList(_ name: String, _ values: [String], member: String = "member") {
        for (offset, value) in values.enumerated() {
            pairs.append(("\(name).\(member).\(offset + 1)", value))
        }
    }

    /// A list of structures: `body` receives each element's prefix, e.g. `Tags.member.1`.
    public mutating func setStructures<T>(_ name: String, _ values: [T], member: String = "member",
                                          body: (inout QueryParameters, String, T) -> Void) {
        for (offset, value) in values.enumerated() {
            body(&self, "\(name).\(member).\(offset + 1)", value)
        }
    }
}
