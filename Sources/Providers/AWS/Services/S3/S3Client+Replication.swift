import DRCore
import Foundation

/// A bucket's replication configuration, the fields drctl checks.
/// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ReplicationConfiguration.html
public struct S3ReplicationConfiguration: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public var id: String?
        public var priority: Int?
        /// "Enabled" or "Disabled".
        public var status: String
        /// The prefix the rule is limited to: `Filter/Prefix`, `Filter/And/Prefix` or the legacy
        /// top-level `Prefix`; "" (or nil) covers the whole bucket.
        public var prefix: String?
        /// True when the filter also selects by tag, so the rule does not cover every object.
        public var filtersByTag: Bool
        /// The destination bucket's ARN, `arn:aws:s3:::name`.
        public var destinationBucketARN: String
        /// nil: the replica keeps the source object's storage class.
        public var storageClass: String?
        public var deleteMarkerReplication: Bool

        public init(id: String?, priority: Int? = 1, status: String = "Enabled", prefix: String? = "", filtersByTag: Bool = false,
                    destinationBucketARN: String, storageClass: String? = nil, deleteMarkerReplication: Bool = false) {
            self.id = id
            self.priority = priority
            self.status = status
            self.prefix = prefix
            self.filtersByTag = filtersByTag
            self.destinationBucketARN = destinationBucketARN
            self.storageClass = storageClass
            self.deleteMarkerReplication = deleteMarkerReplication
        }

        /// The destination bucket's name (the ARN's last part).
        public var destinationBucket: String {
            destinationBucketARN.hasPrefix("arn:") ? String(destinationBucketARN.split(separator: ":", omittingEmptySubsequences: false).last ?? "")
                : destinationBucketARN
        }

        public var coversWholeBucket: Bool { (prefix ?? "").isEmpty && !filtersByTag }
    }

    public var role: String
    public var rules: [Rule]

    public init(role: String, rules: [Rule]) {
        self.role = role
        self.rules = rules
    }

    init(xml: XMLNode) {
        role = xml.string("Role") ?? ""
        rules = xml.children("Rule").map { rule in
            let filter = rule.child("Filter")
            let prefix = filter?.string("Prefix") ?? filter?["And", "Prefix"]?.text ?? rule.string("Prefix")
            let byTag = filter?.child("Tag") != nil || !(filter?.child("And")?.children("Tag").isEmpty ?? true)
            return Rule(id: rule.string("ID"), priority: rule.string("Priority").flatMap(Int.init),
                        status: rule.string("Status") ?? "", prefix: prefix, filtersByTag: byTag,
                        destinationBucketARN: rule["Destination", "Bucket"]?.text ?? "",
                        storageClass: rule["Destination", "StorageClass"]?.text,
                        deleteMarkerReplication: rule["DeleteMarkerReplication", "Status"]?.text == "Enabled")
        }
    }

    /// The V2 schema (`Filter` + `Priority`), the one that allows several rules.
    var xml: XMLNode {
        XMLNode(name: "ReplicationConfiguration", attributes: ["xmlns": S3Client.xmlNamespace], children:
            [.leaf("Role", role)] + rules.map { rule in
                var children: [XMLNode] = []
                if let id = rule.id { children.append(.leaf("ID", id)) }
                if let priority = rule.priority { children.append(.leaf("Priority", String(priority))) }
                children.append(XMLNode(name: "Filter", children: [.leaf("Prefix", rule.prefix ?? "")]))
                children.append(.leaf("Status", rule.status))
                var destination: [XMLNode] = [.leaf("Bucket", rule.destinationBucketARN)]
                if let storageClass = rule.storageClass { destination.append(.leaf("StorageClass", storageClass)) }
                children.append(XMLNode(name: "Destination", children: destination))
                children.append(XMLNode(name: "DeleteMarkerReplication",
                                        children: [.leaf("Status", rule.deleteMarkerReplication ? "Enabled" : "Disabled")]))
                return XMLNode(name: "Rule", children: children)
            })
    }
}

/// Bucket-level reads and the configuration calls tests and setup use.
extension S3Client {
    static let xmlNamespace = "http://s3.amazonaws.com/doc/2006-03-01/"

    /// S3 requires an integrity checksum on configuration PUTs ("httpChecksum: requestChecksumRequired"
    /// in the model): a flexible SHA-256 checksum, as the SDKs send instead of Content-MD5.
    /// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
    static func addChecksum(to request: inout AWSRequest) {
        request.headers.add("x-amz-sdk-checksum-algorithm", "SHA256")
        request.headers.add("x-amz-checksum-sha256", Data(SHA256Digest.hash(request.body)).base64EncodedString())
    }

    static func bucketPath(_ bucket: String) -> String { "/\(encodePathLabel(bucket, greedy: false))" }

    /// nil when the bucket has no replication configuration (`ReplicationConfigurationNotFoundError`).
    /// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketReplication.html
    public func getBucketReplication(bucket: String, region: String) async throws -> S3ReplicationConfiguration? {
        let request = RESTXMLProtocol.request(operation: "GetBucketReplication", method: "GET", path: Self.bucketPath(bucket),
                                              query: [("replication", "")])
        do {
            let response = try await client.send(request, service: service, region: region)
            return S3ReplicationConfiguration(xml: try AWSResponseDecoding.xml(response, operation: "GetBucketReplication"))
        } catch let error as AWSServiceError where error.code == "ReplicationConfigurationNotFoundError" {
            return nil
        }
    }

    /// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketReplication.html
    public func putBucketReplication(bucket: String, configuration: S3ReplicationConfiguration, region: String) async throws {
        var request = RESTXMLProtocol.request(operation: "PutBucketReplication", method: "PUT", path: Self.bucketPath(bucket),
                                              query: [("replication", "")], body: configuration.xml)
        Self.addChecksum(to: &request)
        _ = try await client.send(request, service: service, region: region)
    }

    /// "Enabled", "Suspended", or nil for a bucket that never had versioning.
    /// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html
    public func getBucketVersioning(bucket: String, region: String) async throws -> String? {
        let request = RESTXMLProtocol.request(operation: "GetBucketVersioning", method: "GET", path: Self.bucketPath(bucket),
                                              query: [("versioning", "")])
        let response = try await client.send(request, service: service, region: region)
        let status = try AWSResponseDecoding.xml(response, operation: "GetBucketVersioning").string("Status")
        return status?.isEmpty == true ? nil : status
    }

    /// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html
    public func putBucketVersioning(bucket: String, enabled: Bool, region: String) async throws {
        let body = XMLNode(name: "VersioningConfiguration", attributes: ["xmlns": Self.xmlNamespace],
                           children: [.leaf("Status", enabled ? "Enabled" : "Suspended")])
        var request = RESTXMLProtocol.request(operation: "PutBucketVersioning", method: "PUT", path: Self.bucketPath(bucket),
                                              query: [("versioning", "")], body: body)
        Self.addChecksum(to: &request)
        _ = try await client.send(request, service: service, region: region)
    }

    /// True when the bucket exists and is readable, false on 404; other errors are thrown (a 403
    /// is not proof of absence). https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html
    public func bucketExists(_ bucket: String, region: String) async throws -> Bool {
        let request = RESTXMLProtocol.request(operation: "HeadBucket", method: "HEAD", path: Self.bucketPath(bucket))
        do {
            _ = try await client.send(request, service: service, region: region)
            return true
        } catch let error as AWSServiceError where error.httpStatus == 404 {
            return false
        }
    }

    /// The bucket's region: an empty `LocationConstraint` means us-east-1 and "EU" eu-west-1.
    /// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html
    public func getBucketLocation(bucket: String, region: String) async throws -> String {
        let request = RESTXMLProtocol.request(operation: "GetBucketLocation", method: "GET", path: Self.bucketPath(bucket),
                                              query: [("location", "")])
        let response = try await client.send(request, service: service, region: region)
        let constraint = try AWSResponseDecoding.xml(response, operation: "GetBucketLocation").text
        switch constraint {
        case "", "null": return "us-east-1"
        case "EU": return "eu-west-1"
        default: return constraint
        }
    }
}
