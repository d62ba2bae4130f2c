import DRCore
import Foundation

/// Replica lag of RDS read replicas from CloudWatch (`AWS/RDS` `ReplicaLag`, seconds), over the
/// Query protocol. RDS publishes it every minute; the newest datapoint is the lag now. Reads of
/// one region that arrive together (a preflight over twenty replicas) go out as one
/// GetMetricData with a query per replica (up to 500 per call).
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
public struct RDSReplicaLag: Sendable {
    public let client: AWSClient
    let service = AWSServiceDescriptor.cloudWatch
    private let reads: ReadCoalescer<Scope, String, Datapoint>

    public struct Datapoint: Sendable, Equatable {
        public let timestamp: Date
        public let seconds: Double
    }

    /// The time range a batch reads: region, and the window's end to the second.
    struct Scope: Hashable, Sendable {
        let region: String
        let window: Double
        let end: Date
    }

    /// GetMetricData takes at most 500 queries per call.
    static let queriesPerCall = 500

    public init(client: AWSClient) {
        self.client = client
        let service = self.service
        reads = ReadCoalescer(maxBatch: Self.queriesPerCall) { scope, instances, deadline in
            try await Self.newest(client: client, service: service, scope: scope, instances: instances, deadline: deadline)
        }
    }

    /// The newest `Maximum` datapoint of the last `window` seconds, or nil when there is none
    /// (the metric is absent: unknown lag, which is not zero lag).
    public func latest(region: String, instance: String, window: Double = 600, now: Date = Date(),
                       deadline: Date? = nil) async throws -> Datapoint? {
        let end = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down)).addingTimeInterval(60)
        return try await reads.read(instance, in: Scope(region: region, window: window, end: end), deadline: deadline)
    }

    /// One GetMetricData call (and its pages) for every instance of a batch.
    private static func newest(client: AWSClient, service: AWSServiceDescriptor, scope: Scope, instances: [String],
                               deadline: Date?) async throws -> [String: Datapoint] {
        // Query ids must start with a lower-case letter and be unique within the call.
        let ids = Dictionary(uniqueKeysWithValues: instances.enumerated().map { ("m\($0.offset)", $0.element) })
        let formatter = ISO8601DateFormatter()
        let points = try await collectPages { token -> (items: [(instance: String, point: Datapoint)], next: String?) in
            var parameters = QueryParameters()
            parameters.setStructures("MetricDataQueries", instances.indices.map { $0 }) { parameters, prefix, index in
                parameters.set("\(prefix).Id", "m\(index)")
                parameters.set("\(prefix).MetricStat.Metric.Namespace", "AWS/RDS")
                parameters.set("\(prefix).MetricStat.Metric.MetricName", "ReplicaLag")
                parameters.set("\(prefix).MetricStat.Metric.Dimensions.member.1.Name", "DBInstanceIdentifier")
                parameters.set("\(prefix).MetricStat.Metric.Dimensions.member.1.Value", instances[index])
                parameters.set("\(prefix).MetricStat.Period", 60)
                parameters.set("\(prefix).MetricStat.Stat", "Maximum")
                parameters.set("\(prefix).ReturnData", true)
            }
            parameters.set("StartTime", formatter.string(from: scope.end.addingTimeInterval(-60 - scope.window)))
            parameters.set("EndTime", formatter.string(from: scope.end))
            parameters.set("ScanBy", "TimestampDescending")
            parameters.set("NextToken", token)
            let request = QueryProtocol.request(action: "GetMetricData", version: service.apiVersion, parameters: parameters)
            let response = try await client.send(request, service: service, region: scope.region, deadline: deadline)
            let result = try QueryProtocol.result(of: response, action: "GetMetricData")
            let points = result.list("MetricDataResults").flatMap { series -> [(instance: String, point: Datapoint)] in
                guard let id = series.string("Id"), let instance = ids[id] else { return [] }
                return zip(series.list("Timestamps"), series.list("Values")).compactMap { stamp, value in
                    guard let timestamp = parseTimestamp(stamp.text), let seconds = Double(value.text), seconds.isFinite else { return nil }
                    return (instance, Datapoint(timestamp: timestamp, seconds: seconds))
                }
            }
            return (points, result.string("NextToken"))
        }
        // A long series may continue on the next page: the newest point of each instance, wherever it came.
        var newest: [String: Datapoint] = [:]
        for (instance, point) in points where point.timestamp > newest[instance]?.timestamp ?? .distantPast { newest[instance] = point }
        return newest
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
