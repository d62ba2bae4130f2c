import DRCore
import Foundation

/// One entry of a bucket listing.
public struct S3ObjectSummary: Sendable, Equatable {
    public let key: String
    public let lastModified: Date?
    public let size: Int
    public let storageClass: String?
}

extension S3Client {
    /// Every object under `prefix`, following `NextContinuationToken`.
    /// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
    public func listObjectsV2(bucket: String, prefix: String? = nil, region: String, pageSize: Int? = nil) async throws -> [S3ObjectSummary] {
        try await collectPages { token in
            var query: [(String, String)] = [("list-type", "2")]
            if let prefix, !prefix.isEmpty { query.append(("prefix", prefix)) }
            if let pageSize { query.append(("max-keys", String(pageSize))) }
            if let token { query.append(("continuation-token", token)) }
            let request = RESTXMLProtocol.request(operation: "ListObjectsV2", method: "GET", path: Self.bucketPath(bucket), query: query)
            let response = try await client.send(request, service: service, region: region)
            let root = try AWSResponseDecoding.xml(response, operation: "ListObjectsV2")
            let objects = root.children("Contents").map { node in
                S3ObjectSummary(key: node.string("Key") ?? "", lastModified: node.string("LastModified").flatMap(S3Timestamp.parse),
                                size: node.string("Size").flatMap(Int.init) ?? 0, storageClass: node.string("StorageClass"))
            }
            return (objects, root.string("IsTruncated") == "true" ? root.string("NextContinuationToken") : nil)
        }
    }
}

/// S3's two timestamp forms: ISO 8601 in XML bodies (with or without fractional seconds) and
/// RFC 1123 in `Last-Modified` headers.
enum S3Timestamp {
    static func parse(_ text: String) -> Date? {
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = fractional.date(from: text) { return date }
        if let date = ISO8601DateFormatter().date(from: text) { return date }
        let http = DateFormatter()
        http.locale = Locale(identifier: "en_US_POSIX")
        http.timeZone = TimeZone(identifier: "GMT")
        http.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return http.date(from: text)
    }
}
