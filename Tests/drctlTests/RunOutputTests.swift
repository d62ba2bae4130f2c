import Foundation
import Testing

/// `--output json`: one JSON object per line on stdout, whatever the steps print.
@Suite("Run output")
struct RunOutputTests {
    @Test func jsonOutputIsOneObjectPerLine() throws {
        let workspace = try RunbookWorkspace()
        let file = try workspace.write("json.yaml", """
            name: json-events
            steps:
              - { id: hello, action: notify, with: { message: "promoting orders-replica" } }
              - { id: work, action: exec, needs: [hello], with: { command: "echo side effect; echo on stderr >&2" } }
              - { id: pause, action: wait, needs: [work], with: { duration: 1s } }

            """)
        let result = try workspace.drctl(["run", file, "--yes", "--output", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(result.stdout.hasSuffix("\n"))
        var events: [String] = []
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object != nil, "not a JSON object: \(line)")
            if let event = object?["event"] as? String { events.append(event) }
        }
        #expect(events.first == "run.started")
        #expect(events.last == "run.finished")
        #expect(events.filter { $0 == "step.finished" }.count == 3)
        // The notify message is an event too, not a bare line.
        #expect(lines.contains { $0.contains("promoting orders-replica") && $0.contains("\"event\"") })
    }
}
