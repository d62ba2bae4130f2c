import DRCore
import Foundation

/// AWS Signature Version 4, as a pure value: method, URL, headers, payload and a date in; signed
/// headers (or a presigned URL) out. No clock, no network.
/// Specification: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
public struct SigV4Signer: Sendable {
    public struct Options: Sendable, Equatable {
        /// Remove "." and ".." segments and empty segments from the path (every service but S3).
        public var normalizePath: Bool
        /// Percent-encode the already-encoded path once more (every service but S3).
        public var doubleURIEncode: Bool
        /// Send and sign `x-amz-content-sha256` (S3 requires it).
        public var addContentSHA256Header: Bool
        /// Add the session token after signing instead of signing it (a few services want that).
        public var omitSessionToken: Bool

        public init(normalizePath: Bool = true, doubleURIEncode: Bool = true,
                    addContentSHA256Header: Bool = false, omitSessionToken: Bool = false) {
            self.normalizePath = normalizePath
            self.doubleURIEncode = doubleURIEncode
            self.addContentSHA256Header = addContentSHA256Header
            self.omitSessionToken = omitSessionToken
        }

        public static let standard = Options()
        /// S3: no path normalisation, no double encoding, `x-amz-content-sha256` always.
        /// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
        public static let s3 = Options(normalizePath: false, doubleURIEncode: false, addContentSHA256Header: true)
    }

    /// What the signature covers of the body.
    public enum Payload: Sendable {
        case bytes([UInt8])
        /// A SHA-256 already computed by the caller, lower-case hex.
        case hash(String)
        /// `UNSIGNED-PAYLOAD` (S3 and presigned URLs).
        case unsigned

        public static let empty = Payload.hash(SigV4Signer.emptyPayloadHash)

        var hexHash: String {
            switch self {
            case .bytes(let bytes): return bytes.isEmpty ? SigV4Signer.emptyPayloadHash : Hex.encode(SHA256Digest.hash(bytes))
            case .hash(let hash): return hash
            case .unsigned: return "UNSIGNED-PAYLOAD"
            }
        }
    }

    /// The outcome of signing, with the intermediate texts the specification names (for tests and
    /// for `--debug-signing`; they hold no secret).
    public struct Signature: Sendable {
        public var headers: HTTPHeaders
        public var url: String
        let canonicalRequestBytes: [UInt8]
        let stringToSignBytes: [UInt8]
        public var signature: String
        public var signedHeaders: String

        public var canonicalRequest: String { String(decoding: canonicalRequestBytes, as: UTF8.self) }
        public var stringToSign: String { String(decoding: stringToSignBytes, as: UTF8.self) }
    }

    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let algorithm = "AWS4-HMAC-SHA256"

    public let credentials: AWSCredentials
    public let region: String
    public let service: String
    public let options: Options
    private let keys: SigningKeyCache

    public init(credentials: AWSCredentials, region: String, service: String, options: Options = .standard) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options
        self.keys = SigningKeyCache(secret: credentials.secretAccessKey, region: region, service: service)
    }

    /// Signs with an `Authorization` header. Adds `Host`, `X-Amz-Date`, the session token and,
    /// when the options say so, `x-amz-content-sha256`.
    public func sign(method: String, url: String, headers: HTTPHeaders = [:], payload: Payload = .empty, date: Date) -> Signature {
        let parts = RequestURL(url) ?? RequestURL("https://invalid/")!
        let (stamp, scope, key) = keys.material(for: date)
        let payloadHash = payload.hexHash
        var headers = headers
        var has = (host: false, date: false, contentHash: false, token: false)
        for field in headers.fields {
            if field.name.caseInsensitiveEquals("host") { has.host = true }
            else if field.name.caseInsensitiveEquals("x-amz-date") { has.date = true }
            else if field.name.caseInsensitiveEquals("x-amz-content-sha256") { has.contentHash = true }
            else if field.name.caseInsensitiveEquals("x-amz-security-token") { has.token = true }
        }
        if !has.host { headers.add("Host", parts.hostHeader) }
        if !has.date { headers.add("X-Amz-Date", stamp.dateTime) }
        if options.addContentSHA256Header, !has.contentHash { headers.add("x-amz-content-sha256", payloadHash) }
        if let token = credentials.sessionToken, !options.omitSessionToken, !has.token {
            headers.add("X-Amz-Security-Token", token)
            has.token = true
        }

        let canonicalHeaders = CanonicalHeaders(headers)
        let canonicalRequest = canonicalRequestBytes(
            method: method, path: parts.path, query: CanonicalQuery.make(parts.query), headers: canonicalHeaders, payloadHash: payloadHash)
        let stringToSign = Self.stringToSign(dateTime: stamp.dateTime, scope: scope, canonicalRequest: canonicalRequest)
        let signature = Hex.encode(key.authenticationCode(for: stringToSign))
        let signedNames = canonicalHeaders.signedNamesText

        headers.add("Authorization",
                    "\(Self.algorithm) Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(signedNames), Signature=\(signature)")
        if let token = credentials.sessionToken, options.omitSessionToken, !has.token {
            headers.add("X-Amz-Security-Token", token)
        }
        return Signature(headers: headers, url: url, canonicalRequestBytes: canonicalRequest, stringToSignBytes: stringToSign,
                         signature: signature, signedHeaders: signedNames)
    }

    /// Signs in the query string (a presigned URL valid for `expires` seconds, at most 7 days).
    /// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
    public func presign(method: String, url: String, headers: HTTPHeaders = [:], payload: Payload = .unsigned,
                        date: Date, expires: Int) -> Signature {
        let parts = RequestURL(url) ?? RequestURL("https://invalid/")!
        let (stamp, scope, key) = keys.material(for: date)
        var headers = headers
        if !headers.contains("host") { headers.add("Host", parts.hostHeader) }
        let canonicalHeaders = CanonicalHeaders(headers)
        let signedNames = canonicalHeaders.signedNamesText

        // In the order the SDKs emit them; the canonical query sorts them anyway.
        var added: [(String, String)] = [
            ("X-Amz-Algorithm", Self.algorithm),
            ("X-Amz-Credential", URIEncoding.encode("\(credentials.accessKeyId)/\(scope)")),
            ("X-Amz-Date", stamp.dateTime),
            ("X-Amz-SignedHeaders", URIEncoding.encode(signedNames)),
            ("X-Amz-Expires", String(min(max(expires, 1), 604_800))),
        ]
        let token = credentials.sessionToken.map { ("X-Amz-Security-Token", URIEncoding.encode($0)) }
        if let token, !options.omitSessionToken { added.append(token) }

        let addedQuery = added.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        // Existing parameters keep their spelling but gain "=" when they had none, as the SDKs emit them.
        let existing = parts.query.split(separator: "&").map { $0.contains("=") ? String($0) : $0 + "=" }.joined(separator: "&")
        let fullQuery = existing.isEmpty ? addedQuery : existing + "&" + addedQuery
        let canonicalRequest = canonicalRequestBytes(
            method: method, path: parts.path, query: CanonicalQuery.make(fullQuery), headers: canonicalHeaders, payloadHash: payload.hexHash)
        let stringToSign = Self.stringToSign(dateTime: stamp.dateTime, scope: scope, canonicalRequest: canonicalRequest)
        let signature = Hex.encode(key.authenticationCode(for: stringToSign))

        var finalQuery = fullQuery
        if let token, options.omitSessionToken { finalQuery += "&\(token.0)=\(token.1)" }
        finalQuery += "&X-Amz-Signature=\(signature)"
        let signedURL = "\(parts.scheme)://\(parts.hostHeader)\(parts.path)?\(finalQuery)"
        return Signature(headers: headers, url: signedURL, canonicalRequestBytes: canonicalRequest, stringToSignBytes: stringToSign,
                         signature: signature, signedHeaders: signedNames)
    }

    // Task 1: the canonical request.
    private func canonicalRequestBytes(method: String, path: String, query: String,
                                       headers: CanonicalHeaders, payloadHash: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128 + path.utf8.count + query.utf8.count + headers.block.count + headers.signedNames.count)
        CanonicalHeaders.appendUTF8(method.utf8.allSatisfy { $0 < 0x61 || $0 > 0x7A } ? method : method.uppercased(), to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        CanonicalHeaders.appendUTF8(CanonicalURI.make(path, normalize: options.normalizePath, doubleEncode: options.doubleURIEncode), to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        CanonicalHeaders.appendUTF8(query, to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: headers.block)
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: headers.signedNames)
        bytes.append(UInt8(ascii: "\n"))
        CanonicalHeaders.appendUTF8(payloadHash, to: &bytes)
        return bytes
    }

    // Task 2: the string to sign.
    private static func stringToSign(dateTime: String, scope: String, canonicalRequest: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(140)
        CanonicalHeaders.appendUTF8(algorithm, to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        CanonicalHeaders.appendUTF8(dateTime, to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        CanonicalHeaders.appendUTF8(scope, to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        Hex.append(SHA256Digest.hash(canonicalRequest), to: &bytes)
        return bytes
    }
}

/// Task 3: the signing key, HMAC chained over date, region, service and "aws4_request". It only
/// changes with the date, so it is derived once per day and reused (with its HMAC state); the
/// date texts and the credential scope are kept for the current second.
final class SigningKeyCache: @unchecked Sendable {
    private let secret: String
    private let region: String
    private let service: String
    private let lock = NSLock()
    private var day: (date: String, scope: String, key: HMACSHA256)?
    private var second: (epoch: Int, stamp: AMZDate)?

    init(secret: String, region: String, service: String) {
        self.secret = secret
        self.region = region
        self.service = service
    }

    func material(for instant: Date) -> (stamp: AMZDate, scope: String, key: HMACSHA256) {
        let epoch = Int(instant.timeIntervalSince1970.rounded(.down))
        lock.lock()
        defer { lock.unlock() }
        let stamp: AMZDate
        if let second, second.epoch == epoch {
            stamp = second.stamp
        } else {
            stamp = AMZDate(instant)
            second = (epoch, stamp)
        }
        if let day, day.date == stamp.date { return (stamp, day.scope, day.key) }
        let kDate = HMACSHA256.authenticationCode(for: stamp.date, key: Array("AWS4\(secret)".utf8))
        let kRegion = HMACSHA256.authenticationCode(for: region, key: kDate)
        let kService = HMACSHA256.authenticationCode(for: service, key: kRegion)
        let kSigning = HMACSHA256.authenticationCode(for: "aws4_request", key: kService)
        let entry = (date: stamp.date, scope: "\(stamp.date)/\(region)/\(service)/aws4_request", key: HMACSHA256(key: kSigning))
        day = entry
        return (stamp, entry.scope, entry.key)
    }
}
