import DRCore
import Foundation
import Testing

@Suite("Runbooks built as values, with hostile strings everywhere, render and load back equal")
struct RunbookRendererPropertyTests {
    /// A runbook as a generator would build it: inputs of every type, steps with every field,
    /// arguments of every parameter type, expressions reading inputs, earlier steps and the run.
    static func generated(seed: UInt64) -> Runbook {
        var g = RunbookValueGenerator(seed: seed)
        var inputs: [RunbookInput] = []
        var usedInputs: Set<String> = []
        for _ in 0..<g.int(0...5) {
            let name = g.identifier()
            guard usedInputs.insert(name).inserted else { continue }
            let type = g.pick([RunValueType.string, .int, .number, .duration, .bool, .list, .map, .any])
            var defaultValue: RunValue?
            if g.chance(70) {
                switch type {
                case .string: defaultValue = .string(g.hostileString())
                case .int: defaultValue = .int(g.int(-100...100))
                case .number: defaultValue = .double(g.double())
                case .duration: defaultValue = .duration(g.seconds())
                case .bool: defaultValue = .bool(g.chance(50))
                case .list: defaultValue = .list((0..<g.int(0...3)).map { _ in g.plainValue(depth: 1) })
                case .map: defaultValue = .map(Dictionary((0..<g.int(0...3)).map { _ in (g.hostileString(), g.plainValue(depth: 1)) }) { a, _ in a })
                default: defaultValue = g.plainValue()
                }
            }
            inputs.append(RunbookInput(name: name, type: type, defaultValue: defaultValue, description: g.chance(50) ? g.hostileString() : ""))
        }
        // Only scalar inputs are read where a whole argument is one expression (a list input
        // would not fit a string parameter).
        let readable = inputs.filter { ![.list, .map].contains($0.type) }.map(\.name)

        var steps: [RunbookStep] = []
        var ancestorsOf: [String: Set<String>] = [:]
        for _ in 0..<g.int(1...6) {
            var id = g.name(allowUnderscore: true)
            while ancestorsOf[id] != nil { id += "x" }
            let needs = steps.isEmpty ? [] : Array(Set((0..<g.int(0...2)).map { _ in g.pick(steps).id })).sorted()
            let ancestors = needs.reduce(into: Set(needs)) { $0.formUnion(ancestorsOf[$1] ?? []) }
            ancestorsOf[id] = ancestors
            // Ids that start with a digit or '-' cannot be written in an expression.
            let referable = ancestors.filter { $0.first.map { $0.isLetter || $0 == "_" } == true }.sorted()
            var with: [String: Template] = [:]
            with["s"] = g.stringTemplate(inputs: readable, ancestors: referable)
            if g.chance(50) { with["i"] = .literal(.int(g.int(-1000...1000))) }
            if g.chance(50) { with["n"] = .literal(.double(g.double())) }
            if g.chance(50) { with["d"] = .literal(.duration(g.seconds())) }
            if g.chance(50) { with["b"] = .literal(.bool(g.chance(50))) }
            if g.chance(50) { with["l"] = .literal(.list((0..<g.int(0...3)).map { _ in g.plainValue(depth: 1) })) }
            if g.chance(50) {
                with["m"] = Template(structure: .map([g.hostileString(): g.stringTemplate(inputs: readable, ancestors: referable),
                                                      "fixed": .expression(g.expression(inputs: readable, ancestors: referable))]))
            }
            if g.chance(50) { with["a"] = .literal(g.plainValue()) }
            let compensate: ActionCall? = g.chance(30)
                ? .make("exec", templates: ["command": g.stringTemplate(inputs: readable, ancestors: referable + [id].filter { $0.first!.isLetter })])
                : nil
            let kinds = ["transient", "throttling", "timeout", "any"].filter { _ in g.chance(40) }
            let retry = g.chance(40) ? StepRetryPolicy(attempts: g.int(1...20), backoff: g.seconds(), maxBackoff: g.seconds(), on: kinds) : StepRetryPolicy()
            steps.append(.make(id: id, action: "test.every-type", templates: with, needs: needs,
                               when: g.chance(40) ? g.condition(inputs: readable, ancestors: referable) : nil,
                               timeout: g.chance(40) ? g.seconds(allowZero: false) : nil, retry: retry,
                               estimate: g.chance(40) ? g.seconds() : nil,
                               onFailure: g.pick(FailurePolicy.allCases), compensate: compensate,
                               description: g.chance(50) ? g.hostileString() : ""))
        }
        var outputs: [String: Template] = [:]
        for _ in 0..<g.int(0...3) {
            outputs[g.hostileString()] = g.stringTemplate(inputs: readable, ancestors: steps.map(\.id).filter { $0.first!.isLetter })
        }
        return Runbook(name: g.name(allowUnderscore: false), description: g.chance(50) ? g.hostileString() : "", inputs: inputs,
                       budgets: RunbookBudgets(rpo: g.chance(50) ? g.seconds(allowZero: false) : nil, rto: g.chance(50) ? g.seconds(allowZero: false) : nil),
                       steps: steps, outputs: outputs, source: RunbookSource(path: "", digest: ""))
    }

    @Test("500 generated runbooks load back equal and render to the same bytes", arguments: [0, 1, 2, 3, 4])
    func generatedRunbooksRoundTrip(batch: UInt64) throws {
        for seed in batch * 100..<(batch + 1) * 100 {
            let runbook = Self.generated(seed: seed)
            let text = RunbookRenderer.render(runbook)
            let reparsed: Runbook
            do {
                reparsed = try RunbookLoader.parse(text: text, path: "seed-\(seed).yaml", catalog: RoundTripCatalog.catalog)
            } catch {
                Issue.record("seed \(seed): the rendered text does not load: \(error)\n\(text)")
                continue
            }
            #expect(reparsed.withoutOrigin == runbook, "seed \(seed) renders as:\n\(text)")
            #expect(RunbookRenderer.render(reparsed) == text, "seed \(seed): rendering the reloaded runbook gives other bytes")
        }
    }
}
