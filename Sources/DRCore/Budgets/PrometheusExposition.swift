import Foundation

/// The RPO posture in the Prometheus text exposition format 0.0.4, for node_exporter's textfile
/// collector and the Pushgateway.
/// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
public enum PrometheusExposition {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ posture: RPOPosture) -> String {
        var out = ""
        let plan = ["plan": posture.plan]

        family(&out, "drctl_rpo_seconds", "Age of the newest restorable point in the DR region, per resource and way of recovery (absent when unknown).")
        for resource in posture.resources {
            for point in resource.recoveryPoints {
                guard let seconds = point.seconds else { continue }
                sample(&out, "drctl_rpo_seconds", plan.merging(["resource": resource.name, "kind": point.kind.rawValue]) { $1 }, seconds)
            }
        }
        family(&out, "drctl_rpo_budget_seconds", "The plan's RPO budget.")
        sample(&out, "drctl_rpo_budget_seconds", plan, posture.budgetSeconds)

        family(&out, "drctl_rpo_breach", "1 when the resource's RPO is above the budget or unknown, else 0.")
        for resource in posture.resources {
            let state = resource.state(budgetSeconds: posture.budgetSeconds)
            sample(&out, "drctl_rpo_breach", plan.merging(["resource": resource.name]) { $1 }, state == .breach ? 1 : 0)
        }
        family(&out, "drctl_rpo_unknown", "1 when the resource's RPO could not be measured (it counts as a breach above), else 0: tells a blind probe from data loss.")
        for resource in posture.resources {
            sample(&out, "drctl_rpo_unknown", plan.merging(["resource": resource.name]) { $1 }, resource.rpoSeconds == nil ? 1 : 0)
        }
        family(&out, "drctl_rpo_warning", "1 when the resource's RPO is at or above half the budget but within it, else 0.")
        for resource in posture.resources {
            let state = resource.state(budgetSeconds: posture.budgetSeconds)
            sample(&out, "drctl_rpo_warning", plan.merging(["resource": resource.name]) { $1 }, state == .warning ? 1 : 0)
        }

        family(&out, "drctl_last_drill_timestamp_seconds", "When the plan's last drill finished (Unix time), whatever its result.")
        if let drill = posture.lastDrill { sample(&out, "drctl_last_drill_timestamp_seconds", plan, drill.finishedAt.timeIntervalSince1970) }
        family(&out, "drctl_last_drill_success", "1 when the plan's last drill succeeded, else 0 (also when there was none).")
        sample(&out, "drctl_last_drill_success", plan, posture.lastDrill?.status == .succeeded ? 1 : 0)
        family(&out, "drctl_last_successful_drill_timestamp_seconds", "When the plan's last successful drill finished (Unix time).")
        if let drill = posture.lastSuccessfulDrill {
            sample(&out, "drctl_last_successful_drill_timestamp_seconds", plan, drill.finishedAt.timeIntervalSince1970)
        }

        // One sample per lock: scope="plan" (failover, switchover …) and scope="drill". A selector
        // on plan alone still matches both, so `max by (plan)` answers "is anything running".
        family(&out, "drctl_lock_held", "1 while a run holds the lock: scope plan (failover, switchover, failback, reprotect) or drill, else 0.")
        sample(&out, "drctl_lock_held", plan.merging(["scope": "plan"]) { $1 }, posture.lockHolder == nil ? 0 : 1)
        sample(&out, "drctl_lock_held", plan.merging(["scope": "drill"]) { $1 }, posture.drillLockHolder == nil ? 0 : 1)
        return out
    }

    static func family(_ out: inout String, _ name: String, _ help: String) {
        out += "# HELP \(name) \(escapeHelp(help))\n# TYPE \(name) gauge\n"
    }

    static func sample(_ out: inout String, _ name: String, _ labels: [String: String], _ value: Double) {
        let rendered = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(escapeLabel($0.value))\"" }.joined(separator: ",")
        out += "\(name){\(rendered)} \(format(value))\n"
    }

    /// Label values escape backslash, double quote and line feed.
    public static func escapeLabel(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// HELP text escapes backslash and line feed.
    static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Go's ParseFloat reads these: integers without a fraction, NaN, +Inf, -Inf.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
