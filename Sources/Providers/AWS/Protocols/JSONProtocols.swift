import DRCore
import Foundation

/// AWS JSON 1.0/1.1 (ECS, Secrets Manager): POST "/" with `X-Amz-Target: Prefix.Operation`.
/// https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
public enum JSONProtocol {
    public static func request<Input: Encodable>(operation: String, service: AWSServiceDescriptor, input: Input) throws -> AWSRequest {
        let body = try JSONEncoder.aws.encode(input)
        return AWSRequest(operation: operation, method: "POST", path: "/",
                          headers: ["Content-Type": "application/x-amz-json-\(service.jsonVersion ?? "1.1")",
                                    "X-Amz-Target": "\(service.targetPrefix ?? service.signingName).\(operation)"],
                          body: Array(body))
    }
}

/// REST-JSON (EKS): the operation's HTTP method and URI, JSON body.
/// https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html
public enum RESTJSONProtocol {
    public static func request<Input: Encodable>(operation: String, method: String, path: String,
                                                 query: [(String, String)] = [], input: Input?) throws -> AWSRequest {
        var headers: HTTPHeaders = [:]
        var body: [UInt8] = []
        if let input {
            body = Array(try JSONEncoder.aws.encode(input))
            headers.add("Content-Type", "application/json")
        }
        return AWSRequest(operation: operation, method: method, path: path, query: query, headers: headers, body: body)
    }
}

/// REST-XML (S3, Route 53): the operation's HTTP method and URI, XML body when there is one.
public enum RESTXMLProtocol {
    public static func request(operation: String, method: String, path: String, query: [(String, String)] = [],
                               headers: HTTPHeaders = [:], body: XMLNode? = nil) -> AWSRequest {
        var headers = headers
        var bytes: [UInt8] = []
        if let body {
            bytes = Array(XMLWriter.render(body, declaration: true).utf8)
            if !headers.contains("content-type") { headers.add("Content-Type", "application/xml") }
        }
        return AWSRequest(operation: operation, method: method, path: path, query: query, headers: headers, body: bytes)
    }
}

extension JSONEncoder {
    /// Stable output (sorted keys) so that idempotency tokens and signatures are reproducible.
    static var aws: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// The empty input of operations without members.
public struct EmptyInput: Codable, Sendable { public init() {} }
