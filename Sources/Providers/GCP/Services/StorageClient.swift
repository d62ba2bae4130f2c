import DRCore
import Foundation

/// Cloud Storage bucket metadata (storage v1) and Storage Transfer Service operations
/// (storagetransfer v1): the data-loss signals of objects copied into or replicated inside GCS.
public struct StorageClient: Sendable {
    let source: GCPClientSource

    public init(source: GCPClientSource) {
        self.source = source
    }

    struct Bucket: Sendable, Decodable {
        struct Placement: Sendable, Decodable { let dataLocations: [String]? }
        let name: String
        let location: String?
        /// region, dual-region, multi-region.
        let locationType: String?
        /// DEFAULT or ASYNC_TURBO (turbo replication, dual-region only).
        let rpo: String?
        let customPlacementConfig: Placement?
    }

    func bucket(_ name: String, deadline: Date?) async throws -> Bucket {
        try await source.client().call(GCPRequest(service: .storage, methodId: "storage.buckets.get", httpMethod: "GET",
                                                  path: "storage/v1/b/\(GCPPath.segment(name))"), as: Bucket.self, deadline: deadline)
    }

    /// An object's metadata (storage v1 `Object`): enough to tell one write from another and when it happened.
    struct Object: Sendable, Decodable {
        let name: String
        let generation: String?
        let md5Hash: String?
        let size: String?
        let timeCreated: String?
    }

    /// `objects.insert` as a media upload (https://cloud.google.com/storage/docs/uploading-objects,
    /// `POST upload/storage/v1/b/BUCKET/o?uploadType=media&name=NAME`). Writing the same bytes under
    /// the same name again leaves the same object: safe to resend.
    func insertObject(bucket: String, name: String, body: Data, contentType: String, deadline: Date?) async throws -> Object {
        var request = GCPRequest(service: .storage, methodId: "storage.objects.insert", httpMethod: "POST",
                                 path: "upload/storage/v1/b/\(GCPPath.segment(bucket))/o", query: [("uploadType", "media"), ("name", name)],
                                 body: body, isIdempotent: true)
        request.contentType = contentType
        return try await source.client().call(request, as: Object.self, deadline: deadline)
    }

    /// `objects.get` (metadata); nil when the object (or the bucket) is not there (404).
    func object(bucket: String, name: String, deadline: Date?) async throws -> Object? {
        do {
            return try await source.client().call(GCPRequest(service: .storage, methodId: "storage.objects.get", httpMethod: "GET",
                                                             path: "storage/v1/b/\(GCPPath.segment(bucket))/o/\(GCPPath.segment(name))"),
                                                  as: Object.self, deadline: deadline)
        } catch let error as GCPServiceError where error.category == .notFound {
            return nil
        }
    }

    /// A TransferOperation's metadata
    /// (https://cloud.google.com/storage-transfer/docs/reference/rest/v1/transferOperations#TransferOperation).
    struct TransferOperation: Sendable, Decodable {
        struct Counters: Sendable, Decodable {
            let objectsCopiedToSink: String?
            let objectsFromSourceFailed: String?
            let objectsFoundFromSource: String?
        }
        let name: String?
        /// IN_PROGRESS, PAUSED, SUCCESS, FAILED, ABORTED, QUEUED, SUSPENDING.
        let status: String?
        let startTime: String?
        let endTime: String?
        let counters: Counters?
    }

    private struct OperationList: Decodable {
        struct Operation: Decodable {
            let name: String?
            let metadata: TransferOperation?
        }
        let operations: [Operation]?
    }

    /// The job's operations as the service lists them (newest first), first page.
    func transferOperations(project: String, job: String, deadline: Date?) async throws -> [TransferOperation] {
        let filter = try JSONSerialization.data(withJSONObject: ["projectId": project, "jobNames": [job]], options: [.sortedKeys])
        let list = try await source.client().call(GCPRequest(service: .storagetransfer, methodId: "storagetransfer.transferOperations.list",
                                                             httpMethod: "GET", path: "v1/transferOperations",
                                                             query: [("filter", String(decoding: filter, as: UTF8.self)), ("pageSize", "20")]),
                                                  as: OperationList.self, deadline: deadline)
        return (list.operations ?? []).compactMap(\.metadata)
    }
}
