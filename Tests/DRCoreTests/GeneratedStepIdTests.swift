import AWSProvider
import DRCore
import Foundation
import PostgresProvider
import Testing

/// Step ids of a generated move come from names the user wrote (databases, checks, records). Those
/// names may be any text, but a step id must be what a runbook file accepts (`[a-z0-9_-]`): the
/// move's runbook is pinned as text and read back by `drctl resume`, and `--print-runbook` must
/// print a runbook that `drctl validate` accepts.
@Suite("Generated step ids stay inside the runbook grammar")
struct GeneratedStepIdTests {
    static let providers: [any DRProvider] = [
        AWSCloudProvider(client: AWSClient(transport: CurlTransport(), credentials: StaticCredentialProvider(nil), endpoints: StaticEndpointResolver())),
        PostgresProvider(),
    ]
    static let composer = MoveComposer(providers: providers)
    static let catalog: ActionCatalog = {
        var registry = ActionRegistry.builtIns
        for provider in providers { provider.actions().forEach { registry.register($0) } }
        return registry.catalog
    }()

    /// Letters and digits outside ASCII: a CJK name, a precomposed and a combining accent, a
    /// vulgar fraction and a Roman numeral (both `isNumber`), a fullwidth digit.
    @Test(arguments: ["账本", "café", "cafe\u{301}", "½", "Ⅻ", "ｌｅｄｇｅｒ１"])
    func aDatabaseNamedOutsideASCIIGivesIdsARunbookFileAccepts(name: String) throws {
        let text = """
        name: odd
        sites: { primary: us-east-1, dr: [us-west-2] }
        postgres:
          databases:
            - name: "\(name)"
              primary: { site: us-east-1, url_env: P_URL }
              standbys: [ { site: us-west-2, url_env: S_URL } ]
              checks: [ { name: "\(name)", action: postgres.check-freshness, with: { table: t, column: c, max_age: 1h } } ]
            - name: "\(name)-2"
              primary: { site: us-east-1, url_env: P2_URL }
              standbys: [ { site: us-west-2, url_env: S2_URL } ]
        aws:
          databases:
            - { name: "\(name)", primary: { region: us-east-1, instance: p }, replicas: [ { region: us-west-2, instance: r } ] }
        """
        let plan = try DRPlanLoader.parse(bytes: Array(text.utf8), path: "plan.yaml", sections: PlanSections.all)
        let runbook = try Self.composer.runbook(plan: plan, move: Move(kind: .failover, from: "us-east-1", to: "us-west-2"), catalog: Self.catalog)
        let ascii = Set("abcdefghijklmnopqrstuvwxyz0123456789-_")
        for id in runbook.steps.map(\.id) { #expect(id.allSatisfy(ascii.contains), "step id \(id)") }
        #expect(Set(runbook.steps.map(\.id)).count == runbook.steps.count)
        let loaded = try RunbookLoader.parse(text: RunbookRenderer.render(runbook), path: "printed.yaml", catalog: Self.catalog)
        #expect(loaded.steps.map(\.id) == runbook.steps.map(\.id))
    }

    /// A provider that writes its own ids (not through `StepIdentifiers`) is caught before the
    /// runbook runs, not when `drctl resume` reads the pinned text back.
    @Test func anIdOutsideTheGrammarIsAGeneratorDefect() throws {
        struct OwnIds: DRProvider {
            var name: String { "own" }
            func actions() -> [any RunbookAction] { [] }
            func preflight(_ move: Move, plan: DRPlan) async -> PreflightFindings { PreflightFindings() }
            func moveSteps(_ move: Move, plan: DRPlan, ids: inout StepIdentifiers) throws -> [MoveStep] {
                [MoveStep(RunbookStep(id: "fence-账本", call: ActionCall(action: "check", with: ["that": Template(constant: .bool(true))])), phase: .fence)]
            }
        }
        let plan = try DRPlanLoader.parse(bytes: Array("name: p\nsites: { primary: us-east-1, dr: [us-west-2] }\n".utf8), path: "plan.yaml",
                                          sections: PlanSections.all)
        #expect {
            try MoveComposer(providers: [OwnIds()]).runbook(plan: plan, move: Move(kind: .failover, from: "us-east-1", to: "us-west-2"), catalog: Self.catalog)
        } throws: { error in
            "\(error)".contains("step fence-账本: the id is not lower-case letters, digits, '_' and '-'")
        }
    }
}
