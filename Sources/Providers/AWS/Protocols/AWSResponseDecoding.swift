import DRCore
import Foundation

/// Success and error decoding shared by the four protocols.
public enum AWSResponseDecoding {
    public static func xml(_ response: HTTPResponse, operation: String) throws -> XMLNode {
        do {
            return try XMLDocumentParser.parse(response.body)
        } catch {
            throw AWSResponseError(operation: operation, reason: "\(error)", httpStatus: response.status)
        }
    }

    public static func json<T: Decodable>(_ type: T.Type, from response: HTTPResponse, operation: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(response.body.isEmpty ? Array("{}".utf8) : response.body))
        } catch {
            throw AWSResponseError(operation: operation, reason: "unexpected JSON: \(error)", httpStatus: response.status)
        }
    }

    /// Turns a non-2xx response into an `AWSServiceError` using the protocol's error shape.
    public static func error(from response: HTTPResponse, service: AWSServiceDescriptor, operation: String, region: String) -> AWSServiceError {
        let requestId = response.headers["x-amzn-requestid"] ?? response.headers["x-amz-request-id"] ?? response.headers["x-amzn-request-id"]
        var code = ""
        var message = ""
        var bodyRequestId: String?

        switch service.wireProtocol {
        case .query, .restXML:
            if let root = try? XMLDocumentParser.parse(response.body) {
                // Query and Route 53: <ErrorResponse><Error>…; S3: <Error>…; EC2-style: <Response><Errors><Error>.
                let error = root.name == "Error" ? root : Self.firstElement(named: "Error", in: root)
                code = error?.string("Code") ?? ""
                message = error?.string("Message") ?? ""
                bodyRequestId = root.string("RequestId") ?? root.string("RequestID") ?? error?.string("RequestId")
            }
        case .json, .restJSON:
            if let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] {
                code = (object["__type"] as? String) ?? (object["code"] as? String) ?? (object["Code"] as? String) ?? ""
                message = (object["message"] as? String) ?? (object["Message"] as? String) ?? ""
            }
            if let header = response.headers["x-amzn-errortype"], !header.isEmpty { code = header }
            code = sanitizeJSONErrorCode(code)
        }
        if code.isEmpty { code = codeForStatus(response.status) }
        return AWSServiceError(service: service.serviceId, operation: operation, code: code, message: message,
                               requestId: requestId ?? bodyRequestId, httpStatus: response.status, region: region,
                               serverDate: response.headers["date"], retryAfter: response.headers["retry-after"].flatMap(retryAfterSeconds))
    }

    /// `Retry-After: 120`: delta-seconds, digits only (RFC 9110 §10.2.3). Anything else (an HTTP
    /// date, `inf`, `-5`, `1e400`) is ignored and the retry strategy's own backoff applies; a huge
    /// number is capped at a day so the delay stays finite (the strategy caps it again).
    static func retryAfterSeconds(_ header: String) -> Double? {
        let digits = header.trimmingCharacters(in: .whitespaces)
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return min(Double(digits) ?? 86_400, 86_400)
    }

    /// "aws.protocoltests#FooError:http://…" → "FooError" (the JSON protocols' rule).
    static func sanitizeJSONErrorCode(_ raw: String) -> String {
        var code = Substring(raw)
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        return String(code)
    }

    /// Bodiless errors (HEAD requests, proxies, an HTML 500 from a stub) still get a usable code.
    static func codeForStatus(_ status: Int) -> String {
        switch status {
        case 301: return "PermanentRedirect"
        case 400: return "BadRequest"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 429: return "TooManyRequests"
        case 500: return "InternalError"
        case 502: return "BadGateway"
        case 503: return "ServiceUnavailable"
        case 504: return "GatewayTimeout"
        default: return "HTTP\(status)"
        }
    }

    static func firstElement(named name: String, in node: XMLNode) -> XMLNode? {
        for child in node.children {
            if child.name == name { return child }
            if let found = firstElement(named: name, in: child) { return found }
        }
        return nil
    }
}

/// A successful HTTP status with a body drctl cannot read: a service change or a broken proxy.
public struct AWSResponseError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let reason: String
    public let httpStatus: Int
    public var description: String { "\(operation): could not read the response (HTTP \(httpStatus)): \(reason)" }
}
