import DRCore
import Foundation

/// The replica lag of Cloud SQL replicas from Cloud Monitoring
/// (`cloudsql.googleapis.com/database/replication/replica_lag`, seconds, sampled every 60 s,
/// https://cloud.google.com/monitoring/api/metrics_gcp#gcp-cloudsql), through
/// `projects.timeSeries.list`. Reads of one project that arrive together share one call whose
/// filter names them all with `one_of` — as GetMetricData serves many RDS instances on AWS.
public struct CloudSQLReplicaLag: Sendable {
    public struct Point: Sendable, Equatable {
        public let seconds: Double
        public let timestamp: Date
    }

    public static let metric = "cloudsql.googleapis.com/database/replication/replica_lag"
    /// How far back a sample still counts (the metric is written every minute; a few minutes of
    /// Monitoring's ingestion delay are normal).
    static let window: TimeInterval = 600
    /// Keeps the filter well under Monitoring's filter-length limit.
    static let maxBatch = 50

    let source: GCPClientSource
    /// Grouped by project and caller: a batch is one call, made as one identity.
    private struct Group: Hashable, Sendable { let project: String; let caller: GCPCaller }
    private let coalescer: ReadCoalescer<Group, String, Point>

    public init(source: GCPClientSource, window: Duration = .milliseconds(10)) {
        self.source = source
        coalescer = ReadCoalescer(window: window, maxBatch: Self.maxBatch) { group, instances, deadline in
            try await GCPCaller.$current.withValue(group.caller) {
                try await Self.fetch(source: source, project: group.project, instances: instances, deadline: deadline)
            }
        }
    }

    /// The newest sample of `instance` in the last ten minutes, nil when there is none (unknown, never 0).
    public func latest(project: String, instance: String, deadline: Date?) async throws -> Point? {
        try await coalescer.read(instance, in: Group(project: project, caller: GCPCaller.current), deadline: deadline)
    }

    /// The filter for a batch: `database_id` is `PROJECT:INSTANCE` on the `cloudsql_database` resource.
    static func filter(project: String, instances: [String]) -> String {
        let ids = instances.map { "\"\(project):\($0)\"" }.joined(separator: ", ")
        return "metric.type = \"\(metric)\" AND resource.type = \"cloudsql_database\" AND resource.labels.database_id = one_of(\(ids))"
    }

    private struct Response: Decodable {
        struct Series: Decodable {
            struct Resource: Decodable { let labels: [String: String]? }
            struct Point: Decodable {
                struct Interval: Decodable { let endTime: String }
                struct Value: Decodable {
                    let doubleValue: Double?
                    let int64Value: String?
                }
                let interval: Interval
                let value: Value
            }
            let resource: Resource
            let points: [Point]?
        }
        let timeSeries: [Series]?
        let nextPageToken: String?
    }

    static func fetch(source: GCPClientSource, project: String, instances: [String], deadline: Date?) async throws -> [String: Point] {
        let now = Date()
        var query: [(String, String)] = [("filter", filter(project: project, instances: instances)),
                                         ("interval.startTime", GCPActions.timestamp(now.addingTimeInterval(-window))),
                                         ("interval.endTime", GCPActions.timestamp(now))]
        var newest: [String: Point] = [:]
        let client = try await source.client()
        while true {
            let page = try await client.call(GCPRequest(service: .monitoring, methodId: "monitoring.projects.timeSeries.list", httpMethod: "GET",
                                                        path: "v3/projects/\(GCPPath.segment(project))/timeSeries", query: query),
                                             as: Response.self, deadline: deadline)
            for series in page.timeSeries ?? [] {
                guard let id = series.resource.labels?["database_id"], let colon = id.lastIndex(of: ":") else { continue }
                let instance = String(id[id.index(after: colon)...])
                for point in series.points ?? [] {
                    guard let time = RFC3339.parse(point.interval.endTime),
                          let value = point.value.doubleValue ?? point.value.int64Value.flatMap(Double.init) else { continue }
                    if newest[instance].map({ $0.timestamp < time }) ?? true { newest[instance] = Point(seconds: value, timestamp: time) }
                }
            }
            guard let token = page.nextPageToken, !token.isEmpty else { return newest }
            query.removeAll { $0.0 == "pageToken" }
            query.append(("pageToken", token))
        }
    }
}
