import DRCore
import Foundation

/// Amazon S3 over REST-XML, path-style addressing (works with every endpoint override and with
/// bucket names that contain dots). https://docs.aws.amazon.com/AmazonS3/latest/API/
public struct S3Client: Sendable {
    let client: AWSClient
    let service = AWSServiceDescriptor.s3

    public init(client: AWSClient) { self.client = client }

    public struct ObjectHead: Sendable, Equatable {
        public let contentLength: Int
        public let eTag: String?
        public let versionId: String?
        /// `x-amz-replication-status`: PENDING, COMPLETED, FAILED, REPLICA (nil when not replicated).
        public let replicationStatus: String?
        public let lastModified: String?
        public let storageClass: String?
        public let metadata: [String: String]
    }

    /// The object's path: bucket then key, each byte but unreserved ones and "/" encoded, so
    /// "a//b c+~%é" reaches S3 unchanged (S3 signs paths without normalisation).
    static func objectPath(bucket: String, key: String) -> String {
        "/\(encodePathLabel(bucket, greedy: false))/\(encodePathLabel(key, greedy: true))"
    }

    @discardableResult
    public func putObject(bucket: String, key: String, body: [UInt8], region: String,
                          contentType: String? = nil, metadata: [String: String] = [:]) async throws -> ObjectHead {
        var headers: HTTPHeaders = [:]
        if let contentType { headers.add("Content-Type", contentType) }
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) { headers.add("x-amz-meta-\(name)", value) }
        let request = RESTXMLProtocol.request(operation: "PutObject", method: "PUT", path: Self.objectPath(bucket: bucket, key: key),
                                              headers: headers)
        var withBody = request
        withBody.body = body
        let response = try await client.send(withBody, service: service, region: region)
        return Self.head(from: response.headers, length: body.count)
    }

    public func headObject(bucket: String, key: String, region: String) async throws -> ObjectHead {
        let request = RESTXMLProtocol.request(operation: "HeadObject", method: "HEAD", path: Self.objectPath(bucket: bucket, key: key))
        let response = try await client.send(request, service: service, region: region)
        return Self.head(from: response.headers, length: nil)
    }

    public func getObject(bucket: String, key: String, region: String) async throws -> (head: ObjectHead, body: [UInt8]) {
        let request = RESTXMLProtocol.request(operation: "GetObject", method: "GET", path: Self.objectPath(bucket: bucket, key: key))
        let response = try await client.send(request, service: service, region: region)
        return (Self.head(from: response.headers, length: response.body.count), response.body)
    }

    public func createBucket(_ bucket: String, region: String) async throws {
        let body: XMLNode? = region == "us-east-1" ? nil : XMLNode(
            name: "CreateBucketConfiguration", attributes: ["xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"],
            children: [.leaf("LocationConstraint", region)])
        let request = RESTXMLProtocol.request(operation: "CreateBucket", method: "PUT", path: "/\(encodePathLabel(bucket, greedy: false))",
                                              body: body)
        _ = try await client.send(request, service: service, region: region)
    }

    static func head(from headers: HTTPHeaders, length: Int?) -> ObjectHead {
        var metadata: [String: String] = [:]
        for (name, value) in headers where name.lowercased().hasPrefix("x-amz-meta-") {
            metadata[String(name.lowercased().dropFirst("x-amz-meta-".count))] = value
        }
        return ObjectHead(contentLength: length ?? headers["content-length"].flatMap(Int.init) ?? 0,
                          eTag: headers["etag"], versionId: headers["x-amz-version-id"],
                          replicationStatus: headers["x-amz-replication-status"], lastModified: headers["last-modified"],
                          storageClass: headers["x-amz-storage-class"], metadata: metadata)
    }
}
