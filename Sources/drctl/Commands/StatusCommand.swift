import AWSProvider
import ArgumentParser
import DRCore
import Foundation

/// `drctl status`: the RPO posture of every protected resource of the plan, the last drill and
/// the plan's lock holder; as a table, JSON or Prometheus text, optionally pushed to a
/// Pushgateway. Exits 11 when a resource's RPO is above the budget or unknown.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "RPO posture now: newest restorable point per protected resource against the budget, last drill, lock holder.",
        discussion: "Exit codes: 0 every resource is ok or warning; 11 a resource is above the RPO budget or its RPO is unknown.")

    enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
        case text, json, prometheus
    }

    @Option(name: .long, help: "Output format: text, json or prometheus (text exposition format 0.0.4).")
    var output: Format = .text
    @Flag(name: .long, help: "No colours (also when NO_COLOR is set or stdout is not a terminal).")
    var noColor = false
    @Option(name: .long, help: "Log level on stderr: trace, debug, info, notice, warning, error (default: warning; env DRCTL_LOG_LEVEL).")
    var logLevel: String?

    @OptionGroup var state: StateOptions
    @OptionGroup var aws: AWSOptions
    @Option(name: .long, help: "The DR plan (default: $DRCTL_PLAN, else ./drplan.yaml).") var plan: String?
    @Option(name: .long, help: "Also push the metrics to this Prometheus Pushgateway (PUT URL/metrics/job/drctl/plan/NAME).")
    var pushgateway: String?

    func validate() throws {
        if let pushgateway, URL(string: pushgateway)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            throw ValidationError("--pushgateway expects an http:// or https:// URL")
        }
    }

    func run() async throws {
        var global = GlobalOptions()
        global.logLevel = logLevel
        try global.bootstrapLogging()
        let plan = try DRPlanLoader.load(path: self.plan ?? ProcessInfo.processInfo.environment["DRCTL_PLAN"] ?? "drplan.yaml",
                                         sections: ProviderRegistration.sections)
        let store = try state.openStore()
        let awsRegion = self.aws.region ?? (plan.primarySite.cloud == "aws" ? plan.primarySite.region : nil)
        let aws = try AWSContext(profile: self.aws.profile, region: awsRegion)
        let now = Date()

        // Every provider's probes at once; resources in provider order.
        let providers = ProviderRegistration.providers(ProviderContext(aws: aws))
        let resources = await PlanPosture.measure(plan, providers: providers, now: now)
        let drills = try await DrillHistory.latest(in: store, plan: plan.name)
        let lease = { (scope: String) in try await store.lease(scope: scope).flatMap { $0.expiresAt > now ? $0 : nil } }
        let posture = RPOPosture(plan: plan.name, budgetSeconds: plan.budgets.rpo ?? 3600, generatedAt: now, resources: resources,
                                 lastDrill: drills.last.map(RPOPosture.Drill.init), lastSuccessfulDrill: drills.lastSuccess.map(RPOPosture.Drill.init),
                                 lockHolder: try await lease(RPOPosture.planLockScope(plan.name)),
                                 drillLockHolder: try await lease(RPOPosture.drillLockScope(plan.name)))

        switch output {
        case .text: PostureRenderer.text(posture, drSites: plan.drSites.map(\.description))
        case .json: try JSONOutput.print(PostureRenderer.Document(posture))
        case .prometheus: FileHandle.standardOutput.write(Data(PrometheusExposition.render(posture).utf8))
        }

        var pushError: (any Error)?
        if let pushgateway {
            do { try await Pushgateway(base: pushgateway).push(posture, transport: aws.transport) } catch { pushError = error }
        }
        if posture.state == .breach {
            // A measured breach is data at risk (11); a probe that could not measure (14) is told
            // apart, so that an alert can page for one and ticket the other.
            let breached = posture.resources.filter { $0.state(budgetSeconds: posture.budgetSeconds) == .breach }
            let over = breached.filter { $0.rpoSeconds != nil }.map(\.name), unknown = breached.filter { $0.rpoSeconds == nil }.map(\.name)
            var message = over.isEmpty ? "" : "RPO budget of \(DurationText.format(posture.budgetSeconds)) breached for: \(over.joined(separator: ", "))"
            if !unknown.isEmpty { message += (message.isEmpty ? "" : "; ") + "RPO unknown (could not be measured) for: \(unknown.joined(separator: ", "))" }
            throw RunEnded(status: over.isEmpty ? .rpoUnknown : .rpoBudgetBreached, message: message + (pushError.map { "; and the push failed: \($0)" } ?? ""))
        }
        if let pushError = pushError as? PushgatewayError { throw RunEnded(status: .cloudError, message: "error: \(pushError)") }
        if let pushError { throw pushError }
    }
}

/// PUTs the posture in the text exposition format to a Pushgateway, replacing the plan's group.
/// https://github.com/prometheus/pushgateway#put-method
struct Pushgateway {
    let base: String

    var url: String {
        var trimmed = base
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }

    func push(_ posture: RPOPosture, transport: any HTTPTransport) async throws {
        // Plan names are [a-z0-9-]: safe in a path segment as they are.
        let target = "\(url)/metrics/job/drctl/plan/\(posture.plan)"
        let request = HTTPRequest(method: "PUT", url: target, headers: ["Content-Type": PrometheusExposition.contentType],
                                  body: Array(PrometheusExposition.render(posture).utf8))
        let response = try await transport.send(request)
        guard (200..<300).contains(response.status) else {
            throw PushgatewayError(message: "the Pushgateway answered HTTP \(response.status) to PUT \(Self.redacted(target))")
        }
    }

    /// The URL without `user:password@` and query string, for messages.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "the Pushgateway URL" }
        components.user = nil
        components.password = nil
        components.query = nil
        return components.string ?? "the Pushgateway URL"
    }
}

struct PushgatewayError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
