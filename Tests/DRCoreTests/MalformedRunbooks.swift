import Testing

/// A malformed runbook and where its (first expected) problem must be reported.
struct MalformedRunbook: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var line: Int
    var column: Int
    var message: String

    init(_ name: String, _ text: String, _ line: Int, _ column: Int, _ message: String) {
        self.init(name, bytes: Array(text.utf8), line, column, message)
    }

    init(_ name: String, bytes: [UInt8], _ line: Int, _ column: Int, _ message: String) {
        self.name = name
        self.bytes = bytes
        self.line = line
        self.column = column
        self.message = message
    }

    var testDescription: String { name }

    /// A runbook named `demo` whose steps are `steps` (indented by two spaces, starting at line 3).
    static func withSteps(_ name: String, _ steps: String, _ line: Int, _ column: Int, _ message: String,
                          inputs: String = "") -> MalformedRunbook {
        let head = inputs.isEmpty ? "name: demo\nsteps:\n" : "name: demo\n\(inputs)\nsteps:\n"
        return MalformedRunbook(name, head + steps, line, column, message)
    }

    static let all: [MalformedRunbook] = [
        // YAML itself
        .init("unclosed flow sequence", "name: demo\nsteps: [\n", 3, 1, "found invalid YAML"),
        .init("mapping value in the wrong place", "name: demo\n  steps: x\n", 2, 8, "mapping values are not allowed"),
        .init("tab indentation", "name: demo\nsteps:\n\t- id: a\n", 3, 1, "found invalid YAML"),
        .init("duplicate key", "name: a\nname: b\nsteps: []\n", 1, 1, "found duplicate key 'name'"),
        .init("empty file", "", 1, 1, "found an empty file"),
        .init("not UTF-8", bytes: Array("name: demo\nsteps:\n  - id: a".utf8) + [0xC3, 0x28], 3, 10, "not UTF-8"),
        .init("file over 1 MiB", "name: demo\n" + String(repeating: "# padding padding padding padding\n", count: 32_000), 1, 1,
              "expected at most 1048576 bytes"),
        .init("nesting too deep", "name: demo\nsteps: " + String(repeating: "[", count: 100_000), 2, 71, "nested more than 64 levels"),
        .init("nested dashes too deep", "name: demo\nsteps:\n" + String(repeating: "- ", count: 200) + "x\n", 3, 129,
              "nested more than 64 levels"),
        .init("alias expansion bomb", aliasBomb, 2, 10, "anchors and aliases"),
        // Top level
        .init("top level is a list", "- name: demo\n", 1, 1, "found a list, expected a mapping for the runbook"),
        .init("missing name", "steps:\n  - { id: a, action: wait, with: { duration: 1s } }\n", 1, 1, "found no 'name'"),
        .init("bad runbook name", "name: Failover_Demo\nsteps: []\n", 1, 7, "found name 'Failover_Demo'"),
        .init("unknown top-level key", "name: demo\nstep:\n  - { id: a, action: wait }\n", 2, 1, "did you mean 'steps'?"),
        .init("steps is not a list", "name: demo\nsteps: fence\n", 2, 8, "found the string 'fence', expected a list of steps"),
        .init("empty steps", "name: demo\nsteps: []\n", 2, 8, "found an empty list of steps"),
        .init("too many steps", "name: demo\nsteps:\n" + String(repeating: "  - { id: s, action: wait }\n", count: 5001), 3, 3,
              "found 5001 steps, expected at most 5000"),
        .init("budget is not a duration", "name: demo\nbudgets: { rpo: soon, rto: 4h }\nsteps: []\n", 2, 17, "expected a duration"),
        .init("unknown budget", "name: demo\nbudgets: { rpo: 1h, rtt: 4h }\nsteps: []\n", 2, 21, "found unknown key 'rtt' in budgets, expected one of rpo, rto (did you mean 'rto'"),
        // Inputs
        .init("unknown input type", "name: demo\ninputs:\n  to: { type: strin }\nsteps: []\n", 3, 15, "did you mean 'string'?"),
        .init("input without type", "name: demo\ninputs:\n  to: { default: x }\nsteps: []\n", 3, 7, "found no 'type'"),
        .init("input default of the wrong type", "name: demo\ninputs:\n  count: { type: int, default: three }\nsteps: []\n", 3, 32,
              "found the string 'three', expected an int for the default of input 'count'"),
        .init("input default that is no duration", "name: demo\ninputs:\n  grace: { type: duration, default: 5 minutes }\nsteps: []\n", 3, 37,
              "expected a duration"),
        // Steps
        withSteps("step without action", "  - id: a\n", 3, 5, "found no 'action' in a step"),
        withSteps("step that is a string", "  - fence\n", 3, 5, "found the string 'fence', expected a mapping for a step"),
        withSteps("bad step id", "  - id: Fence!\n    action: wait\n    with: { duration: 1s }\n", 3, 9, "found step id 'Fence!'"),
        withSteps("unknown step key", "  - id: a\n    action: wait\n    with: { duration: 1s }\n    need: [b]\n", 6, 5, "did you mean 'needs'?"),
        withSteps("duplicate step id", "  - { id: a, action: wait, with: { duration: 1s } }\n  - { id: a, action: wait, with: { duration: 2s } }\n",
                  4, 11, "found duplicate step id 'a', expected ids to be unique (first used at line 3)"),
        withSteps("unknown needs", "  - { id: a, action: wait, with: { duration: 1s } }\n  - { id: b, action: wait, needs: [aa], with: { duration: 1s } }\n",
                  4, 36, "found unknown step 'aa' in needs"),
        withSteps("self dependency", "  - { id: a, action: wait, needs: a, with: { duration: 1s } }\n", 3, 35, "found step 'a' in its own needs"),
        withSteps("cycle in needs",
                  "  - { id: a, action: wait, needs: [c], with: { duration: 1s } }\n  - { id: b, action: wait, needs: [a], with: { duration: 1s } }\n  - { id: c, action: wait, needs: [b], with: { duration: 1s } }\n",
                  4, 36, "found a cycle in needs: a → c → b → a"),
        withSteps("bad timeout duration", "  - { id: a, action: wait, timeout: 10 minutes, with: { duration: 1s } }\n", 3, 37,
                  "found the string '10 minutes', expected a duration"),
        withSteps("bad estimate", "  - { id: a, action: wait, estimate: [5m], with: { duration: 1s } }\n", 3, 38, "found a list, expected a duration"),
        withSteps("invalid on_failure", "  - { id: a, action: wait, on_failure: retry, with: { duration: 1s } }\n", 3, 40,
                  "found on_failure 'retry', expected abort, continue, ask or rollback"),
        withSteps("retry attempts zero", "  - { id: a, action: wait, retry: { attempts: 0 }, with: { duration: 1s } }\n", 3, 47,
                  "found the number 0, expected a whole number from 1 to 20 for retry.attempts"),
        withSteps("retry attempts above twenty", "  - { id: a, action: wait, retry: { attempts: 21 }, with: { duration: 1s } }\n", 3, 47,
                  "found the number 21, expected a whole number from 1 to 20 for retry.attempts"),
        withSteps("retry on unknown error kind", "  - { id: a, action: wait, retry: { on: [flaky] }, with: { duration: 1s } }\n", 3, 42,
                  "found error kind 'flaky'"),
        // Actions and their arguments
        withSteps("unknown action", "  - id: a\n    action: exce\n", 4, 13, "found unknown action 'exce', expected a known action (did you mean 'exec'?)"),
        withSteps("unknown provider action", "  - id: a\n    action: aws.rds.promote-replica\n", 4, 13, "did you mean 'aws.rds.promote-read-replica'?"),
        withSteps("unknown with argument", "  - id: a\n    action: exec\n    with: { comand: ls }\n", 5, 13, "found unknown argument 'comand' for action exec"),
        withSteps("missing required argument", "  - id: a\n    action: wait\n    with: { }\n", 5, 11,
                  "found no 'duration' in with, expected the required argument 'duration' of action wait"),
        withSteps("argument of the wrong type", "  - id: a\n    action: approve\n    with: { summary: go, irreversible: maybe }\n", 5, 40,
                  "found the string 'maybe', expected a boolean (true or false) for with.irreversible"),
        withSteps("wait for something that is not a duration", "  - id: a\n    action: wait\n    with: { duration: soon }\n", 5, 23,
                  "expected a duration like 90s"),
        withSteps("with is a list", "  - id: a\n    action: exec\n    with: [ls]\n", 5, 11, "found a list, expected a mapping for with of step 'a'"),
        withSteps("compensation with unknown action", "  - id: a\n    action: exec\n    with: { command: ls }\n    compensate: { action: undo }\n",
                  6, 27, "found unknown action 'undo'"),
        // Expressions
        withSteps("bad operator in expression", "  - id: a\n    action: wait\n    when: \"${{ inputs.count >> 1 }}\"\n    with: { duration: 1s }\n",
                  7, 30, "found '>', expected a value", inputs: "inputs:\n  count: { type: int }"),
        withSteps("unclosed expression", "  - id: a\n    action: exec\n    with: { command: \"echo ${{ inputs.to\" }\n", 5, 28,
                  "found '${{' without its closing '}}'"),
        withSteps("unknown function", "  - id: a\n    action: exec\n    with: { command: \"${{ shout(inputs.to) }}\" }\n", 5, 27,
                  "found unknown function 'shout'"),
        withSteps("unterminated string literal", "  - id: a\n    action: check\n    with: { that: \"${{ inputs.to == 'x }}\" }\n", 5, 37,
                  "found a string without its closing '"),
        withSteps("chained comparison", "  - id: a\n    action: check\n    with: { that: \"${{ 1 < 2 < 3 }}\" }\n", 5, 30, "comparisons do not chain"),
        withSteps("unknown input in expression", "  - id: a\n    action: exec\n    with: { command: \"echo ${{ inputs.tos }}\" }\n", 7, 32,
                  "found unknown input 'tos', expected one of the declared inputs to (did you mean 'to'?)",
                  inputs: "inputs:\n  to: { type: string }"),
        withSteps("unknown run field", "  - id: a\n    action: exec\n    with: { command: \"${{ run.user }}\" }\n", 5, 27, "found 'run.user'"),
        withSteps("reference to a step that is not needed",
                  "  - { id: a, action: exec, with: { command: ls } }\n  - { id: b, action: exec, with: { command: \"${{ steps.a.outputs.x }}\" } }\n",
                  4, 50, "which step 'b' does not need"),
        withSteps("reference to an unknown step", "  - { id: a, action: exec, with: { command: \"${{ steps.z.status }}\" } }\n", 3, 50,
                  "found unknown step 'z'"),
        withSteps("step reading its own outputs", "  - { id: a, action: exec, with: { command: \"${{ steps.a.outputs.x }}\" } }\n", 3, 50,
                  "found step 'a' reading itself"),
        withSteps("when that is not boolean", "  - id: a\n    action: wait\n    when: \"${{ inputs.count }}\"\n    with: { duration: 1s }\n",
                  7, 16, "found an expression of type int, expected a boolean", inputs: "inputs:\n  count: { type: int }"),
        withSteps("check that is not boolean", "  - id: a\n    action: check\n    with: { that: \"${{ length('abc') }}\" }\n", 5, 19,
                  "found an expression of type int, expected a boolean (true or false) for with.that"),
        withSteps("when with text around the expression", "  - { id: a, action: wait, when: \"yes ${{ true }}\", with: { duration: 1s } }\n",
                  3, 34, "expected one expression"),
        withSteps("bare expression in when with a syntax error", "  - { id: a, action: wait, when: \"run.id ==\", with: { duration: 1s } }\n",
                  3, 44, "found the end of the expression, expected a value"),
    ]

    /// Nine levels of ten aliases each: a few hundred bytes that expand to 10⁹ values.
    static let aliasBomb: String = {
        var text = "name: demo\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        return text + "steps:\n  - id: a\n    action: run\n    with: { runbook: x, inputs: { bomb: *a9 } }\n"
    }()
}
