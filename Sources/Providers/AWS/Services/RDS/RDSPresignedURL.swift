import DRCore
import Foundation

/// The `PreSignedUrl` of cross-region RDS calls (CopyDBSnapshot, CreateDBInstanceReadReplica):
/// the same operation, with `DestinationRegion` added, as a GET presigned with SigV4 for the
/// *source* region's endpoint. The source region checks it to authorize the copy.
/// This is what botocore's `inject_presigned_url_rds` handler does when given `SourceRegion`
/// (it then drops `SourceRegion` from the wire request; so do we).
/// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html (PreSignedUrl)
enum RDSPresignedURL {
    /// Presigned URLs for RDS are valid for an hour, as the SDKs make them.
    static let expires = 3600

    static func make(client: AWSClient, action: String, parameters: QueryParameters,
                     sourceRegion: String, destinationRegion: String) async throws -> String {
        let service = AWSServiceDescriptor.rds
        var pairs: [(String, String)] = [("Action", action), ("Version", service.apiVersion)]
        pairs.append(contentsOf: parameters.pairs)
        pairs.append(("DestinationRegion", destinationRegion))
        let query = pairs.map { "\(URIEncoding.encode($0.0))=\(URIEncoding.encode($0.1))" }.joined(separator: "&")
        let endpoint = client.endpoints.endpoint(for: service, region: sourceRegion)
        let resolved = try await client.credentials.resolve()
        let signer = SigV4Signer(credentials: resolved.credentials, region: endpoint.signingRegion,
                                 service: service.signingName, options: service.signerOptions)
        let date = Date().addingTimeInterval(client.clockSkew.current)
        return signer.presign(method: "GET", url: endpoint.url + "/?" + query, date: date, expires: expires).url
    }
}

extension RDSClient {
    /// Cross-region copies and replicas carry `PreSignedUrl`: the same call presigned in the
    /// source region (what the SDKs add when given `SourceRegion`). Nothing within one region.
    func addPresignedURL(to parameters: inout QueryParameters, action: String, sourceRegion: String?, region: String) async throws {
        guard let sourceRegion, sourceRegion != region else { return }
        let url = try await RDSPresignedURL.make(client: client, action: action, parameters: parameters,
                                                 sourceRegion: sourceRegion, destinationRegion: region)
        parameters.set("PreSignedUrl", url)
    }
}
