import DRCore
import Foundation

/// AWS Identity and Access Management over the Query protocol (a global service, signed for
/// us-east-1): only the policy simulator, with which preflight tells a move's missing
/// permissions before the first call that would be denied.
/// https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
public struct IAMClient: Sendable {
    /// The simulator's decision for one action on one resource.
    public struct Decision: Sendable, Equatable {
        public let action: String
        public let resource: String
        /// `allowed`, `explicitDeny` or `implicitDeny`.
        public let decision: String
        /// Condition keys a policy needed that the request did not give (the decision may be wrong).
        public let missingContext: [String]

        public var allowed: Bool { decision == "allowed" }
    }

    /// A request context value (`aws:RequestedRegion` → `us-west-2`).
    public struct ContextEntry: Sendable, Equatable {
        public let key: String
        public let values: [String]

        public init(key: String, values: [String]) {
            self.key = key
            self.values = values
        }
    }

    let client: AWSClient
    let service = AWSServiceDescriptor.iam

    public init(client: AWSClient) { self.client = client }

    /// Every action on every resource (`*` when none is given), for the identity policies of
    /// `principal` (a user's or role's IAM ARN), every page.
    public func simulatePrincipalPolicy(principal: String, actions: [String], resources: [String],
                                        context: [ContextEntry]) async throws -> [Decision] {
        var decisions: [Decision] = []
        var marker: String?
        repeat {
            var parameters = QueryParameters()
            parameters.set("PolicySourceArn", principal)
            parameters.setList("ActionNames", actions)
            if !resources.isEmpty { parameters.setList("ResourceArns", resources) }
            parameters.setStructures("ContextEntries", context) { parameters, prefix, entry in
                parameters.set("\(prefix).ContextKeyName", entry.key)
                parameters.setList("\(prefix).ContextKeyValues", entry.values)
                parameters.set("\(prefix).ContextKeyType", entry.values.count == 1 ? "string" : "stringList")
            }
            parameters.set("Marker", marker)
            let request = QueryProtocol.request(action: "SimulatePrincipalPolicy", version: service.apiVersion, parameters: parameters)
            let response = try await client.send(request, service: service, region: "us-east-1")
            let result = try QueryProtocol.result(of: response, action: "SimulatePrincipalPolicy")
            for evaluation in result.list("EvaluationResults") {
                let action = evaluation.string("EvalActionName") ?? "?"
                let missing = evaluation.list("MissingContextValues").map(\.text)
                let specific = evaluation.list("ResourceSpecificResults")
                if specific.isEmpty {
                    decisions.append(Decision(action: action, resource: evaluation.string("EvalResourceName") ?? "*",
                                              decision: evaluation.string("EvalDecision") ?? "implicitDeny", missingContext: missing))
                }
                for item in specific {
                    decisions.append(Decision(action: action, resource: item.string("EvalResourceName") ?? "*",
                                              decision: item.string("EvalResourceDecision") ?? "implicitDeny",
                                              missingContext: missing + item.list("MissingContextValues").map(\.text)))
                }
            }
            marker = result.string("IsTruncated") == "true" ? result.string("Marker") : nil
        } while marker != nil
        return decisions
    }

    /// The IAM principal whose identity policies decide for a caller STS names: a user as is; an
    /// assumed role's role (`arn:aws:iam::ACCOUNT:role/NAME`: a role with a path is not found by
    /// this name, and the check says so); nil for the root user (no identity policy limits it).
    public static func principal(ofCaller arn: String) -> String? {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "arn" else { return nil }
        let (partition, service, account, resource) = (parts[1], parts[2], parts[4], parts[5])
        if service == "iam" {
            return resource == "root" ? nil : arn
        }
        if service == "sts", resource.hasPrefix("assumed-role/") {
            let role = resource.dropFirst("assumed-role/".count).split(separator: "/").first.map(String.init) ?? ""
            return role.isEmpty ? nil : "arn:\(partition):iam::\(account):role/\(role)"
        }
        return nil
    }
}
