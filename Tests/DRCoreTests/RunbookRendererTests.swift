import DRCore
import Foundation
import Testing

@Suite("RunbookRenderer writes YAML that loads back as the same runbook")
struct RunbookRendererTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every runbook shipped under Runbooks/, the test fixtures and the runbook fuzz seeds that
    /// validate against the round-trip catalogue (the others are malformed on purpose, or name
    /// actions of providers DRCoreTests does not link).
    static func validRunbookFiles() throws -> [String] {
        let folders = ["Runbooks", "Tests/DRCoreTests/Fixtures/runbooks", "Fuzz/corpus/runbook"]
        var files: [String] = []
        for folder in folders {
            let root = repository.appendingPathComponent(folder)
            let enumerator = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil))
            for case let url as URL in enumerator where !url.hasDirectoryPath {
                if (try? RunbookLoader.load(path: url.path, catalog: RoundTripCatalog.catalog)) != nil { files.append(url.path) }
            }
        }
        return files.sorted()
    }

    static func roundTrip(_ runbook: Runbook, _ what: String) throws {
        let text = RunbookRenderer.render(runbook)
        let reparsed: Runbook
        do {
            reparsed = try RunbookLoader.parse(text: text, path: "rendered.yaml", catalog: RoundTripCatalog.catalog)
        } catch {
            Issue.record("\(what) renders as text that does not load: \(error)\n\(text)")
            return
        }
        #expect(reparsed.withoutOrigin == runbook.withoutOrigin, "\(what) renders as:\n\(text)")
        #expect(RunbookRenderer.render(reparsed) == text, "\(what): rendering the reloaded runbook gives other bytes")
        #expect(RunbookRenderer.render(runbook) == text, "\(what): rendering twice gives other bytes")
    }

    @Test("every valid runbook in the repository loads back equal, and renders to the same bytes twice")
    func everyRepositoryRunbookRoundTrips() throws {
        let files = try Self.validRunbookFiles()
        // engine-tour (Runbooks/ and its fuzz seed), failover-demo (fixture and seed), and more.
        #expect(files.count >= 4, "found only \(files)")
        #expect(files.contains { $0.hasSuffix("Runbooks/examples/engine-tour.yaml") })
        #expect(files.contains { $0.hasSuffix("Fixtures/runbooks/failover-demo.yaml") })
        for file in files {
            try Self.roundTrip(try RunbookLoader.load(path: file, catalog: RoundTripCatalog.catalog), file)
        }
    }

    @Test("a runbook with every field, expressions and awkward strings loads back equal")
    func everyFieldRoundTrips() throws {
        let yaml = #"""
        name: every-field
        description: "yes: it's \"all\" here # really"
        inputs:
          to: { type: string, default: "0123", description: "~" }
          count: { type: int, default: 3 }
          ratio: { type: number, default: 1 }
          grace: { type: duration, default: 1.5 }
          dry: { type: bool, default: false }
          tags: { type: list, default: [a, "1e3", null, 2, [x]] }
          labels: { type: map, default: { "": empty, "a: b": { c: yes } } }
          anything: { type: any, default: null }
          needed: { type: string }
        budgets: { rpo: 90m, rto: 250ms }
        steps:
          - id: "null"
            action: test.every-type
            with:
              s: 5
              i: 7
              n: 2
              d: 1500ms
              b: true
              l: [1, "${{ inputs.to }}", [2, 3], { k: "v ${{ run.id }}" }]
              m: { "#": "${{ inputs.count > 1 || inputs.ratio <= 2.5 && !inputs.dry }}", "~": [] }
              a: "${{ format('{0}-{1}', lower(inputs.to), length(inputs.tags)) }}"
            timeout: 0.001
            estimate: 0s
            retry: { attempts: 20, backoff: 0.25, max_backoff: 366d, on: [any] }
            on_failure: ask
          - id: '1e3'
            description: "line\nbreak\ttab \u00e9 \u2028 end"
            action: exec
            needs: ["null"]
            when: "${{ steps.null.status == 'succeeded' && (steps.null.outputs.items.0 .1 != \"it's\") }}"
            with:
              command: "echo '${{ steps.null.outputs.x }}' $${{ inputs.to }} }} {{ $"
              env: { "yes": "no", "on": "${{ duration('5m') > duration(inputs.grace) }}" }
              timeout: 90
            compensate: { action: exec, with: { command: "undo ${{ steps.null.status }}" } }
            on_failure: rollback
          - id: last
            action: check
            needs: "1e3"
            when: false
            with: { that: "${{ contains(inputs.tags, 'a') || startsWith(upper(inputs.to), \"0\") }}" }
        outputs:
          "": "${{ inputs.needed }}"
          "key with spaces": plain
          z: "${{ steps.last.status }} and ${{ run.operator }}"
        """#
        let runbook = try RunbookLoader.parse(text: yaml, path: "every-field.yaml", catalog: RoundTripCatalog.catalog)
        try Self.roundTrip(runbook, "every-field")
    }
}
