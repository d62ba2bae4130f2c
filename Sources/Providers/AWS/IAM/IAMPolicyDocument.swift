import DRCore
import Foundation

/// An IAM identity policy built from permission needs: one statement per set of actions that share
/// their resources and conditions, each with a stable Sid, in a deterministic order
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html).
public struct IAMPolicyDocument: Sendable, Equatable {
    public struct Statement: Sendable, Equatable {
        public var sid: String
        public var actions: [String]
        public var resources: [String]
        /// Sorted; all must hold.
        public var conditions: [PermissionCondition]
    }

    public var statements: [Statement]

    /// The Sid of the statement of actions that IAM authorizes only on `Resource: "*"`.
    public static let wildcardSid = "NoResourceLevelPermissions"

    /// Groups `needs` (AWS only): first each IAM action with its conditions gets the union of its
    /// resources (its `aws:RequestedRegion` values too), then actions with the same resources and
    /// conditions share a statement.
    public init(needs: [PermissionNeed]) {
        struct Grant: Hashable { let action: String; let conditions: [PermissionCondition] }
        var resources: [Grant: Set<String>] = [:], regions: [Grant: Set<String>] = [:]
        for need in needs where need.provider == AWSPlanSectionKind.cloud {
            let requested = need.conditions.filter { $0.key == "aws:RequestedRegion" }
            let grant = Grant(action: need.permission, conditions: need.conditions.filter { $0.key != "aws:RequestedRegion" }.sorted())
            resources[grant, default: []].formUnion(need.resources)
            if !requested.isEmpty { regions[grant, default: []].formUnion(requested.flatMap(\.values)) }
        }
        struct Shape: Hashable { let resources: [String]; let conditions: [PermissionCondition] }
        var actions: [Shape: [String]] = [:]
        for (grant, granted) in resources {
            let scoped = granted.contains("*") ? ["*"] : granted.sorted()
            var conditions = grant.conditions
            if let requested = regions[grant] { conditions.append(PermissionCondition("StringEquals", "aws:RequestedRegion", requested.sorted())) }
            actions[Shape(resources: scoped, conditions: conditions.sorted()), default: []].append(grant.action)
        }
        var statements = actions.map { shape, names in
            Statement(sid: "", actions: names.sorted(), resources: shape.resources, conditions: shape.conditions)
        }.sorted { ($0.actions.joined(separator: ","), $0.resources.joined(separator: ","), $0.conditions.map(\.key).joined())
            < ($1.actions.joined(separator: ","), $1.resources.joined(separator: ","), $1.conditions.map(\.key).joined()) }
        var taken: [String: Int] = [:]
        for index in statements.indices {
            let base = Self.sid(statements[index])
            taken[base, default: 0] += 1
            statements[index].sid = taken[base]! == 1 ? base : "\(base)\(taken[base]!)"
        }
        self.statements = statements.sorted { $0.sid < $1.sid }
    }

    /// A name from what the statement allows: `RdsDeleteDBSnapshot`, `RdsDescribeDBInstancesAndMore`;
    /// the wildcard statements name themselves as such. Derived from content only, so a plan that
    /// does not change gives the same Sids.
    static func sid(_ statement: Statement) -> String {
        if statement.resources == ["*"] {
            let regions = statement.conditions.first { $0.key == "aws:RequestedRegion" }?.values ?? []
            return wildcardSid + regions.map(camel).joined()
        }
        let first = statement.actions[0].split(separator: ":").map(String.init)
        let service = camel(first[0]), operation = first.count > 1 ? first[1] : ""
        let tagged = statement.conditions.contains { $0.key.hasPrefix("aws:RequestTag/") || $0.key.hasPrefix("aws:ResourceTag/") }
        return service + operation + (statement.actions.count > 1 ? "AndMore" : "") + (tagged ? "Tagged" : "")
    }

    private static func camel(_ text: String) -> String {
        text.split { !$0.isLetter && !$0.isNumber }.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// The policy as IAM takes it: `Version` 2012-10-17, statements in Sid order, keys sorted,
    /// one value always as a list (so the output is deterministic and diffable).
    public func json() -> String {
        func quoted(_ text: String) -> String {
            let data = try? JSONEncoder().encode(text)
            return data.map { String(decoding: $0, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/") } ?? "\"\""
        }
        func list(_ items: [String], indent: String) -> String {
            "[\n" + items.map { indent + "  " + quoted($0) }.joined(separator: ",\n") + "\n" + indent + "]"
        }
        var text = "{\n  \"Statement\": [\n"
        text += statements.map { statement in
            var fields: [String] = []
            fields.append("      \"Action\": " + list(statement.actions, indent: "      "))
            if !statement.conditions.isEmpty {
                let byTest = Dictionary(grouping: statement.conditions, by: \.test)
                let tests = byTest.keys.sorted().map { test in
                    "        " + quoted(test) + ": {\n" + byTest[test]!.sorted().map { condition in
                        "          " + quoted(condition.key) + ": " + list(condition.values, indent: "          ")
                    }.joined(separator: ",\n") + "\n        }"
                }
                fields.append("      \"Condition\": {\n" + tests.joined(separator: ",\n") + "\n      }")
            }
            fields.append("      \"Effect\": \"Allow\"")
            fields.append("      \"Resource\": " + list(statement.resources, indent: "      "))
            fields.append("      \"Sid\": " + quoted(statement.sid))
            return "    {\n" + fields.joined(separator: ",\n") + "\n    }"
        }.joined(separator: ",\n")
        text += "\n  ],\n  \"Version\": \"2012-10-17\"\n}\n"
        return text
    }
}
