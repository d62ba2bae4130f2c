import DRCore
import Foundation
import Testing

@Suite("RunbookLoader maps a valid runbook and locates every problem in a malformed one")
struct RunbookLoaderTests {
    static func fixturePath(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "yaml", subdirectory: "Fixtures/runbooks"))
        return url.path
    }

    static let catalog = ActionCatalog.builtIns.registering([
        ActionCatalog.Action("aws.rds.promote-read-replica", parameters: [
            .init("instance", .string, required: true), .init("region", .string),
        ]),
    ])

    @Test("a valid runbook loads with every field mapped")
    func validRunbookLoadsWithEveryField() throws {
        let path = try Self.fixturePath("failover-demo")
        let runbook = try RunbookLoader.load(path: path, catalog: Self.catalog)
        #expect(runbook.name == "failover-demo")
        #expect(runbook.description == "Promote the replica in the DR region and move traffic.")
        #expect(runbook.inputs.map(\.name) == ["to", "count", "grace", "dry"])
        #expect(runbook.inputs[0] == RunbookInput(name: "to", type: .string, defaultValue: .string("us-west-2"), description: "Target region"))
        #expect(runbook.inputs[1].required && runbook.inputs[1].type == .int)
        #expect(runbook.inputs[2].defaultValue == .duration(90))
        #expect(runbook.inputs[3].defaultValue == .bool(false))
        #expect(runbook.budgets == RunbookBudgets(rpo: 3600, rto: 4 * 3600))
        #expect(runbook.steps.map(\.id) == ["fence", "approve_promotion", "promote", "settle"])

        let fence = try #require(runbook.step("fence"))
        #expect(fence.description == "Stop writes on the primary")
        #expect(fence.call.action == "exec")
        #expect(fence.call.with["timeout"] == Template(constant: .duration(30)))
        #expect(fence.timeout == 600)
        #expect(fence.estimate == 300)
        #expect(fence.retry == StepRetryPolicy(attempts: 3, backoff: 2, maxBackoff: 60, on: ["transient", "throttling"]))
        #expect(fence.onFailure == .rollback)
        #expect(fence.compensate?.action == "exec")
        #expect(fence.location == DRCore.FileLocation(file: path, line: 10, column: 5))

        let context = EvaluationContext(inputs: ["to": .string("eu-west-1"), "count": .int(2), "dry": .bool(false), "grace": .duration(90)],
                                        steps: ["fence": .init(status: "succeeded"), "promote": .init(status: "succeeded", outputs: ["endpoint": .string("db.example")])])
        #expect(try fence.call.with["command"]?.evaluate(context) == .string("echo fencing eu-west-1"))
        #expect(try fence.call.with["env"]?.evaluate(context) == .map(["REGION": .string("eu-west-1"), "LEVEL": .int(3)]))
        #expect(try fence.compensate?.with["command"]?.evaluate(context) == .string("echo unfence succeeded"))

        let approve = try #require(runbook.step("approve_promotion"))
        #expect(approve.needs == ["fence"])
        #expect(approve.call.with["irreversible"] == Template(constant: .bool(true)))
        #expect(try approve.call.with["summary"]?.evaluate(context) == .string("Promote the replica in eu-west-1"))

        let promote = try #require(runbook.step("promote"))
        #expect(promote.call.action == "aws.rds.promote-read-replica")
        #expect(promote.onFailure == .continue)
        #expect(promote.retry == StepRetryPolicy())
        #expect(try promote.when?.evaluate(context) == .bool(true))

        let settle = try #require(runbook.step("settle"))
        #expect(settle.when == .binary(.equal, .reference(["steps", "promote", "status"]), .literal(.string("succeeded"))))
        #expect(try settle.call.with["duration"]?.evaluate(context) == .duration(90))

        #expect(try runbook.outputs["endpoint"]?.evaluate(context) == .string("db.example"))
        #expect(runbook.outputs.keys.sorted() == ["endpoint", "region"])

        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(runbook.source == RunbookSource(path: path, digest: Hex.encode(SHA256Digest.hash(bytes))))
        #expect(runbook.source.digest.count == 64)
    }

    @Test("the digest changes with a single byte of the file")
    func digestPinsExactBytes() throws {
        let text = "name: a\nsteps:\n  - { id: s, action: wait, with: { duration: 1s } }\n"
        let first = try RunbookLoader.parse(text: text, path: "a.yaml")
        let second = try RunbookLoader.parse(text: text + " ", path: "a.yaml")
        #expect(first.source.digest != second.source.digest)
        #expect(first.source.digest == Hex.encode(SHA256Digest.hash(Array(text.utf8))))
    }

    @Test("inputs written on one line keep their written order")
    func flowInputsKeepOrder() throws {
        let text = "name: a\ninputs: { zeta: { type: int, default: 1 }, alpha: { type: string, default: x } }\nsteps:\n  - { id: s, action: wait, with: { duration: 1s } }\n"
        #expect(try RunbookLoader.parse(text: text, path: "a.yaml").inputs.map(\.name) == ["zeta", "alpha"])
    }

    @Test("every problem is reported, in file order, one per line as file:line:col: message")
    func allProblemsAreReportedTogether() throws {
        let text = """
        name: Bad Name
        steps:
          - id: a
            action: exce
            timeout: soon
          - id: a
            action: wait
        """
        let error = try #require(throws: RunbookValidationError.self) { try RunbookLoader.parse(text: text, path: "r.yaml") }
        let lines = error.description.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(error)")
        #expect(lines[0].hasPrefix("r.yaml:1:7: found name 'Bad Name'"))
        #expect(lines[1].hasPrefix("r.yaml:4:13: found unknown action 'exce'"))
        #expect(lines[2].hasPrefix("r.yaml:5:14: found the string 'soon', expected a duration"))
        #expect(lines[3].hasPrefix("r.yaml:6:9: found duplicate step id 'a'"))
        #expect(lines[4].hasPrefix("r.yaml:7:5: found no 'duration' in with") || lines[4].hasPrefix("r.yaml:7:13: found no 'duration'"))
    }

    @Test("a missing file is a located problem, not a crash")
    func missingFileIsAProblem() throws {
        let error = try #require(throws: RunbookValidationError.self) {
            try RunbookLoader.load(path: "/nonexistent/runbook.yaml")
        }
        #expect(error.problems.first?.location == DRCore.FileLocation(file: "/nonexistent/runbook.yaml", line: 1, column: 1))
        #expect(error.problems.first?.message.contains("no readable file") == true)
    }

    @Test("malformed runbooks are rejected at the exact line and column", arguments: MalformedRunbook.all)
    func malformedRunbookIsLocated(_ sample: MalformedRunbook) throws {
        let error = try #require(throws: RunbookValidationError.self) {
            try RunbookLoader.parse(bytes: sample.bytes, path: "bad.yaml", catalog: Self.catalog)
        }
        let match = error.problems.first {
            $0.location == DRCore.FileLocation(file: "bad.yaml", line: sample.line, column: sample.column) && $0.message.contains(sample.message)
        }
        #expect(match != nil, "expected \(sample.line):\(sample.column) '\(sample.message)', got:\n\(error)")
        #expect(error.problems.allSatisfy { $0.message.hasPrefix("found ") }, "\(error)")
    }
}
