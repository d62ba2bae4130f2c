import DRCore
import Foundation

/// Replica lag of an RDS read replica from CloudWatch (`AWS/RDS` `ReplicaLag`, seconds), over the
/// Query protocol. RDS publishes it every minute; the newest datapoint is the lag now.
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html
public struct RDSReplicaLag: Sendable {
    public let client: AWSClient
    let service = AWSServiceDescriptor.cloudWatch

    public init(client: AWSClient) { self.client = client }

    public struct Datapoint: Sendable, Equatable {
        public let timestamp: Date
        public let seconds: Double
    }

    /// The newest `Maximum` datapoint of the last `window` seconds, or nil when there is none
    /// (the metric is absent: unknown lag, which is not zero lag).
    public func latest(region: String, instance: String, window: Double = 600, now: Date = Date(),
                       deadline: Date? = nil) async throws -> Datapoint? {
        var parameters = QueryParameters()
        parameters.set("Namespace", "AWS/RDS")
        parameters.set("MetricName", "ReplicaLag")
        parameters.setStructures("Dimensions", [instance]) { parameters, prefix, value in
            parameters.set("\(prefix).Name", "DBInstanceIdentifier")
            parameters.set("\(prefix).Value", value)
        }
        let formatter = ISO8601DateFormatter()
        parameters.set("StartTime", formatter.string(from: now.addingTimeInterval(-window)))
        parameters.set("EndTime", formatter.string(from: now.addingTimeInterval(60)))
        parameters.set("Period", 60)
        parameters.setList("Statistics", ["Maximum"])
        let request = QueryProtocol.request(action: "GetMetricStatistics", version: service.apiVersion, parameters: parameters)
        let response = try await client.send(request, service: service, region: region, deadline: deadline)
        let result = try QueryProtocol.result(of: response, action: "GetMetricStatistics")
        let points: [Datapoint] = result.list("Datapoints").compactMap { node in
            guard let text = node.string("Timestamp"), let timestamp = Self.parseTimestamp(text),
                  let value = node.string("Maximum").flatMap(Double.init) ?? node.string("Average").flatMap(Double.init) else { return nil }
            return Datapoint(timestamp: timestamp, seconds: value)
        }
        return points.max { $0.timestamp < $1.timestamp }
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
