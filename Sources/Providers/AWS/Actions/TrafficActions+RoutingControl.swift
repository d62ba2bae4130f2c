import DRCore
import Foundation

/// `aws.arc.set-routing-control`: sets a Route 53 ARC routing control through the cluster's
/// data plane, trying each regional endpoint in turn. Unlike a Route 53 record change this keeps
/// working while us-east-1 is down, which is exactly when a failover out of us-east-1 runs.
/// https://docs.aws.amazon.com/r53recovery/latest/dg/routing-control.update.api.html
struct SetRoutingControlAction: RunbookAction {
    let arc: RoutingControlClient
    let name = "aws.arc.set-routing-control"
    let summary = "Sets a Route 53 ARC routing control On or Off through the first cluster endpoint that answers, and reads it back."
    let permissions: [ActionPermission] = [
        .aws("route53-recovery-cluster:GetRoutingControlState"),
        .aws("route53-recovery-cluster:UpdateRoutingControlState"),
    ]
    let isMutating = true
    let parameters: [ActionCatalog.Parameter] = [
        .init("region", .string), .init("routing_control_arn", .string, required: true), .init("state", .string, required: true),
        .init("cluster_endpoints", .list, required: true),
    ]

    struct Arguments {
        let arn: String
        let state: String
        let endpoints: [RoutingControlClient.ClusterEndpoint]

        /// `readOnly`: the arguments of a read (no `state` to set).
        init(_ values: [String: RunValue], readOnly: Bool = false) throws {
            let arguments = StepArguments(values)
            arn = try arguments.string("routing_control_arn")
            state = readOnly ? "" : try arguments.string("state")
            guard readOnly || state == "On" || state == "Off" else { throw ActionError(.permanent, "argument 'state' must be \"On\" or \"Off\"") }
            endpoints = try arguments.maps("cluster_endpoints").map {
                let fields = StepArguments($0)
                return .init(url: try fields.string("endpoint"), region: try fields.string("region"))
            }
            guard !endpoints.isEmpty else { throw ActionError(.permanent, "argument 'cluster_endpoints' must not be empty") }
        }
    }

    /// An endpoint that cannot answer (its region is down, it throttles, it fails) is skipped for
    /// the next; an answer that would be the same everywhere (unknown ARN, denied) is not.
    static func isEndpointFailure(_ error: any Error) -> Bool {
        if error is TransportError { return true }
        if let error = error as? AWSServiceError { return error.isRetryable || error.httpStatus >= 500 }
        return false
    }

    /// Calls `body` on each endpoint in turn until one answers; returns the answer and the endpoint.
    static func firstAnswering<T: Sendable>(_ endpoints: [RoutingControlClient.ClusterEndpoint], acting: Bool,
                                            _ body: (RoutingControlClient.ClusterEndpoint) async throws -> T) async throws
        -> (T, RoutingControlClient.ClusterEndpoint) {
        var failures: [String] = []
        var ambiguous = false
        for endpoint in endpoints {
            do {
                return (try await body(endpoint), endpoint)
            } catch where isEndpointFailure(error) {
                // A timeout or 5xx after the request was sent may have applied the update.
                if let transport = error as? TransportError, transport.kind == .timeout { ambiguous = true }
                if error is AWSServiceError, (error as? AWSServiceError)?.category == .transient { ambiguous = true }
                failures.append("\(endpoint.region) \(endpoint.url): \(error)")
            } catch {
                throw AWSStepErrors.classify(error, acting: acting)
            }
        }
        throw ActionError(acting && ambiguous ? .outcomeUnknown : .transient,
                          "no Route 53 ARC cluster endpoint answered: " + failures.joined(separator: "; "))
    }

    func describe(_ arguments: [String: RunValue]) -> String {
        let endpoints: String
        if case .list(let items)? = arguments["cluster_endpoints"] {
            endpoints = items.map { item in
                if case .map(let map) = item { return map.argumentText("region") }
                return "?"
            }.joined(separator: ", ")
        } else {
            endpoints = "?"
        }
        return "Route 53 ARC UpdateRoutingControlState \(arguments.argumentText("routing_control_arn"))"
            + " → \(arguments.argumentText("state")) on the first cluster endpoint that answers (\(endpoints)),"
            + " then GetRoutingControlState until it reads back; data plane only, no dependency on us-east-1"
    }

    func observe(_ invocation: ActionInvocation) async throws -> [String: RunValue]? {
        let arguments = try Arguments(invocation.arguments)
        // Setting a state is idempotent: a first try sets it without reading it first.
        if invocation.isFirstTry { return nil }
        // When no endpoint answers, leave the verdict to `act`, which tries them all again.
        guard let (state, endpoint) = try? await Self.firstAnswering(arguments.endpoints, acting: false, {
            try await arc.getRoutingControlState(arn: arguments.arn, at: $0)
        }) else { return nil }
        return state == arguments.state ? ["endpoint_used": .string(endpoint.url), "changed": .bool(false)] : nil
    }

    func act(_ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let arguments = try Arguments(invocation.arguments)
        let (_, endpoint) = try await Self.firstAnswering(arguments.endpoints, acting: true) {
            try await arc.updateRoutingControlState(arn: arguments.arn, state: arguments.state, at: $0)
        }
        return ["endpoint_used": .string(endpoint.url)]
    }

    func verify(_ invocation: ActionInvocation, acted: [String: RunValue]) async throws -> [String: RunValue] {
        let arguments = try Arguments(invocation.arguments)
        // Read back where we wrote first: the cluster is consistent, but that endpoint is known alive.
        let used = acted["endpoint_used"]?.stringValue
        let ordered = arguments.endpoints.filter { $0.url == used } + arguments.endpoints.filter { $0.url != used }
        let arc = self.arc
        let waiter = Waiter<(String, String)>(what: "routing control \(arguments.arn) \(arguments.state)", minimumDelay: 0.5,
                                              maximumDelay: 5, clock: invocation.services.clock) {
            $0.0 == arguments.state ? .success : .retry
        }
        let (_, endpointURL) = try await AWSStepErrors.run {
            try await waiter.wait(until: invocation.deadline) {
                let (state, endpoint) = try await Self.firstAnswering(ordered, acting: false) {
                    try await arc.getRoutingControlState(arn: arguments.arn, at: $0)
                }
                return (state, endpoint.url)
            }
        }
        return ["endpoint_used": .string(used ?? endpointURL), "changed": .bool(used != nil)]
    }
}
