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
