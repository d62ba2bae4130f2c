import Foundation

/// What one provider contributes to a drill in a site: the copies it makes of the plan's
/// databases there (snapshot and restore, a clone at a point in time …) and how it deletes them.
/// The composer adds what is the same for every cloud — the plan's data checks and the RPO
/// measurement against the copies, the cost guard on the runtime, the closing report — so one
/// drill runbook can restore in several clouds, with one journal and one RTO clock.
public struct DrillPart: Sendable {
    public var steps: [DrillStep] = []
    /// The steps after which a copy can be validated (restores, clones): checks need all of them.
    public var copies: [String] = []
    public var resources: [DrillResource] = []

    public init(steps: [DrillStep] = [], copies: [String] = [], resources: [DrillResource] = []) {
        self.steps = steps
        self.copies = copies
        self.resources = resources
    }
}

/// One step of a provider's drill part.
public struct DrillStep: Sendable {
    public enum Phase: Sendable, Equatable {
        /// Claims (compensations registered before anything exists), snapshots, restores.
        case create
        /// Deletion of what the drill created. `afterValidation` steps need every check (every copy
        /// when the plan has no checks), added by the composer.
        case teardown(afterValidation: Bool)
    }

    public var step: RunbookStep
    public var phase: Phase
    /// Seconds this kind of step typically takes, before the cost guard shares `max_runtime` out:
    /// the step's timeout is this, scaled so that the whole critical path fits the plan's bound.
    public var timeoutBasis: Double

    public init(_ step: RunbookStep, phase: Phase, timeoutBasis: Double) {
        self.step = step
        self.phase = phase
        self.timeoutBasis = timeoutBasis
    }
}

/// One database's drill copy and what was created for it; the journal's first note lists these,
/// and the drill's summary says, per item, whether its teardown step or its claim's compensation
/// deleted it.
public struct DrillResource: Sendable, Equatable {
    public struct Created: Sendable, Equatable {
        /// `snapshot`, `instance`, `clone` …
        public let kind: String
        public let name: String
        /// The step whose compensation deletes it should the drill fail, and the step that deletes it at the end.
        public let claim: String
        public let teardown: String

        public init(kind: String, name: String, claim: String, teardown: String) {
            self.kind = kind
            self.name = name
            self.claim = claim
            self.teardown = teardown
        }
    }

    /// Where the copy answers once its step has run: that step's id and the expressions of its
    /// host and port outputs (`${{ steps.restore-orders.outputs.address }}`), for
    /// `drills.validation.url_template`.
    public struct CopyEndpoint: Sendable, Equatable {
        public let step: String
        public let host: String
        public let port: String

        public init(step: String, host: String, port: String) {
            self.step = step
            self.host = host
            self.port = port
        }
    }

    public let database: String
    public let site: String
    /// What the copy is made from (the DR replica).
    public let source: String
    public let created: [Created]
    public let endpoint: CopyEndpoint?

    public init(database: String, site: String, source: String, created: [Created], endpoint: CopyEndpoint? = nil) {
        self.database = database
        self.site = site
        self.source = source
        self.created = created
        self.endpoint = endpoint
    }

    /// The name of the created item of `kind`, if any.
    public func name(of kind: String) -> String? { created.first { $0.kind == kind }?.name }
}

/// A drill refused before anything is created.
public struct DrillProblem: Error, CustomStringConvertible, Sendable {
    /// True when the cost guard refused (instance size or runtime), false for a plan that cannot drill.
    public let refusedByCostGuard: Bool
    public let message: String
    public var description: String { message }

    public init(refusedByCostGuard: Bool, message: String) {
        self.refusedByCostGuard = refusedByCostGuard
        self.message = message
    }
}

/// Writes the runbook `drctl drill run` executes from every provider's `DrillPart`.
///
/// Teardown always happens: on success by the teardown steps; on a failure by compensations, which
/// providers hang on claim steps that run before anything is created (so they also cover a
/// restore that itself failed half-way). A crash is finished by `drctl resume RUN` or undone by
/// `drctl abort RUN`. Nothing else is touched: no fence, no promote, no DNS, no scaling.
public enum DrillComposer {
    public struct Drill: Sendable {
        public let name: String
        /// The runbook as a value; its rendering is what `--print-runbook` shows and the run pins.
        public let runbook: Runbook
        public let resources: [DrillResource]
        /// The sum of the estimates along the longest chain of steps.
        public let estimate: Double
        /// Nil when the runbook measures RPO (`postgres.heartbeat-rpo`); else why not.
        public let rpoNotMeasuredReason: String?
    }

    public static let heartbeatAction = "postgres.heartbeat-rpo"
    /// Typical seconds of a data check and of the RPO measurement against a copy.
    static let checkEstimate = 120.0, rpoEstimate = 60.0

    /// - Parameter available: the action names this build registers (checks naming others are refused).
    public static func make(plan: DRPlan, site: Site, runId: String, providers: [any DRProvider],
                            available: Set<String>) throws -> Drill {
        let settings = plan.drill
        for check in settings.checks where !available.contains(check.action) {
            throw DrillProblem(refusedByCostGuard: false, message: "check \(check.name) names \(check.action), which this drctl does not provide")
        }
        if !settings.checks.isEmpty && settings.validationURLEnv == nil && settings.validationURLTemplate == nil {
            throw DrillProblem(refusedByCostGuard: false, message: "drill checks need drills.validation (url_env or url_template)")
        }
        var rpoReason: String?
        if settings.primaryURLEnv == nil || (settings.validationURLEnv == nil && settings.validationURLTemplate == nil) {
            rpoReason = "not measured: the plan sets no drills.primary_url_env and drills.validation"
        } else if !available.contains(heartbeatAction) {
            rpoReason = "not measured: this drctl has no \(heartbeatAction) action"
        }

        var ids = StepIdentifiers(reserved: ["report", "measure-rpo"])
        var parts: [DrillPart] = []
        for provider in providers {
            let part = try provider.drillPart(plan: plan, site: site, runId: runId, ids: &ids)
            if !part.steps.isEmpty { parts.append(part) }
        }
        let copies = parts.flatMap(\.copies)
        guard !copies.isEmpty else {
            throw DrillProblem(refusedByCostGuard: false, message: "plan \(plan.name) has no database with a replica in \(site): nothing to drill")
        }

        // Where checks reach a copy: one URL from a variable (every copy behind it), or each copy's
        // own URL from the template, filled in from the step that made it.
        let resources = parts.flatMap(\.resources)
        var targets: [(suffix: String?, needs: [String], url: Template)] = []
        if let template = settings.validationURLTemplate {
            for resource in resources {
                guard let endpoint = resource.endpoint else {
                    throw DrillProblem(refusedByCostGuard: false, message: "the copy of \(resource.database) in \(resource.site) has no endpoint to fill "
                                       + "drills.validation.url_template with; use drills.validation.url_env")
                }
                let text = template.replacingOccurrences(of: "{host}", with: endpoint.host).replacingOccurrences(of: "{port}", with: endpoint.port)
                targets.append((resource.database, [endpoint.step], try TemplateParser.parse(text)))
            }
        } else if let variable = settings.validationURLEnv {
            targets.append((nil, copies, .literal(.string(variable))))
        }
        func target(_ with: inout [String: Template], _ key: String, _ url: Template) {
            if settings.validationURLTemplate != nil { with[key] = url } else { with["\(key)_env"] = url }
        }

        var validation: [DrillStep] = []
        let validating = StepRetryPolicy(attempts: 3, backoff: 5, on: ["transient", "timeout"])
        for check in settings.checks {
            let given = check.with.mapValues(Template.literal)
            // A check naming its own URL runs once, after every copy.
            let ownURL = check.action == "postgres.replication-lag"
                ? given["standby_url"] != nil || given["standby_url_env"] != nil : given["url"] != nil || given["url_env"] != nil
            let once: [(suffix: String?, needs: [String], url: Template)] = [(nil, copies, .literal(.null))]
            for (suffix, needs, url) in ownURL ? once : targets {
                var with = given
                if check.action == "postgres.replication-lag" {
                    if !ownURL { target(&with, "standby_url", url) }
                    if with["url"] == nil && with["url_env"] == nil {
                        guard let primary = settings.primaryURLEnv else {
                            throw DrillProblem(refusedByCostGuard: false, message: "check \(check.name) (postgres.replication-lag) needs drills.primary_url_env or url_env")
                        }
                        with["url_env"] = .literal(.string(primary))
                    }
                } else if !ownURL {
                    target(&with, "url", url)
                }
                let id = suffix.map { ids.make("check", check.name, $0) } ?? ids.make("check", check.name)
                let step = RunbookStep(id: id, call: ActionCall(action: check.action, with: with), needs: needs, retry: validating,
                                       estimate: checkEstimate, onFailure: .rollback,
                                       description: "validation: \(check.name)" + (suffix.map { " (copy of \($0))" } ?? ""))
                validation.append(DrillStep(step, phase: .create, timeoutBasis: checkEstimate))
            }
        }
        if rpoReason == nil {
            // A copy without heartbeats is evidence to report ("RPO not measured"), not a reason
            // to undo a drill whose data checks passed.
            for (suffix, needs, url) in targets {
                var with: [String: Template] = ["primary_url_env": .literal(.string(settings.primaryURLEnv!))]
                target(&with, "copy_url", url)
                let step = RunbookStep(id: suffix.map { ids.make("measure-rpo", $0) } ?? "measure-rpo", call: ActionCall(action: heartbeatAction, with: with),
                                       needs: needs, retry: validating, estimate: rpoEstimate, onFailure: .continue,
                                       description: "the restored copy's newest heartbeat against the primary's")
                validation.append(DrillStep(step, phase: .create, timeoutBasis: rpoEstimate))
            }
        }
        let validated = validation.isEmpty ? copies : validation.map(\.step.id)

        var ordered = parts.flatMap { $0.steps.filter { $0.phase == .create } } + validation
        for var entry in parts.flatMap({ $0.steps.filter { $0.phase != .create } }) {
            if entry.phase == .teardown(afterValidation: true) { entry.step.needs = Self.merge(entry.step.needs, validated) }
            ordered.append(entry)
        }

        // The cost guard: the longest chain of estimates must fit max_runtime, and the timeouts
        // share it out in proportion, so that the whole chain cannot run longer.
        let chain = Self.criticalPath(ordered.map(\.step))
        guard chain <= settings.maxRuntime else {
            throw DrillProblem(refusedByCostGuard: true, message: "cost guard: the drill is estimated at \(DurationText.format(chain)), "
                               + "over drills.max_runtime \(DurationText.format(settings.maxRuntime))")
        }
        let scale = settings.maxRuntime / chain
        var steps = ordered.map { entry -> RunbookStep in
            var step = entry.step
            step.timeout = (entry.timeoutBasis * scale).rounded(.down)
            return step
        }
        // The report waits for the end of every teardown chain (the steps nothing else needs).
        let needed = Set(steps.flatMap(\.needs))
        let teardowns = parts.flatMap { $0.steps.filter { $0.phase != .create }.map(\.step.id) }.filter { !needed.contains($0) }
        let message = try TemplateParser.parse("drill of \(plan.name) in \(site) complete, drill copies deleted (run ${{ run.id }})")
        steps.append(RunbookStep(id: "report", call: ActionCall(action: "notify", with: ["message": message]), needs: teardowns, onFailure: .continue))
        let name = StepIdentifiers.slug(["drill", plan.name, site.slug])
        // The plan's budgets, so that the run's progress and its evidence judge the drill against
        // them (as the failover runbook does): a drill measures whether the plan's RTO and RPO hold.
        let runbook = Runbook(name: name, description: "Drill of \(plan.name) in \(site): restore, validate, measure RPO/RTO, tear down",
                              budgets: plan.budgets, steps: steps, source: RunbookSource(path: "generated:\(name).yaml", digest: ""))
        return Drill(name: name, runbook: runbook, resources: resources, estimate: chain, rpoNotMeasuredReason: rpoReason)
    }

    /// The largest sum of estimates along any chain of needs (steps listed after what they need).
    static func criticalPath(_ steps: [RunbookStep]) -> Double {
        var finish: [String: Double] = [:]
        for step in steps {
            finish[step.id] = (step.needs.compactMap { finish[$0] }.max() ?? 0) + (step.estimate ?? 0)
        }
        return finish.values.max() ?? 0
    }

    private static func merge(_ needs: [String], _ more: [String]) -> [String] {
        needs + more.filter { !needs.contains($0) }
    }

    /// The random part of a run id ("run-20261126-154431-3f9a2c" → "3f9a2c"), for drill resource names.
    public static func shortId(_ runId: String) -> String {
        String(runId.split(separator: "-").last ?? Substring(runId)).lowercased()
    }
}
