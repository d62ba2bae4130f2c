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
        let folders = ["Runbooks", "Tests/DRCoreTests/Fixtures/runbooks", "Fuzz/corpus/runbook", "Fuzz/corpus/render"]
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
        // engine-tour (Runbooks/ and its fuzz seeds), failover-demo (fixture and seeds), the render seeds.
        #expect(files.count >= 8, "found only \(files)")
        #expect(files.contains { $0.hasSuffix("render/hostile-strings.yaml") } && files.contains { $0.hasSuffix("render/anchors-and-flow.yaml") })
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

@Suite("RunbookLoader.Limits: files keep 1 MiB and 5,000 steps; text drctl stored gets more")
struct RunbookLoaderLimitsTests {
    /// 6,000 steps with long arguments: past both limits on files.
    static let large: Runbook = {
        let steps = (0..<6000).map { index in
            RunbookStep.make(id: "notify-\(index)", action: "notify",
                             with: ["message": .string("database \(index) of a very large plan has been promoted in us-west-2 and is ready for traffic")],
                             needs: index == 0 ? [] : ["notify-\(index - 1)"])
        }
        return Runbook(name: "failover-large", steps: steps, source: RunbookSource(path: "", digest: ""))
    }()

    @Test("a rendered runbook over 1 MiB and 5,000 steps is refused as a file and read as stored text")
    func storedTextHasLargerLimits() throws {
        let text = RunbookRenderer.render(Self.large)
        #expect(text.utf8.count > RunbookLoader.Limits.file.maximumBytes)
        let refused = #expect(throws: RunbookValidationError.self) {
            try RunbookLoader.parse(text: text, path: "generated:failover-large.yaml")
        }
        #expect(refused?.problems.first?.message.contains("expected at most 1048576 bytes (1 MiB)") == true)
        let stored = try RunbookLoader.parse(text: text, path: "generated:failover-large.yaml", limits: .stored)
        #expect(stored.withoutOrigin == Self.large)
    }

    @Test("the step limit of files still holds for text under 1 MiB")
    func fileStepLimitHolds() throws {
        var small = Self.large
        small.steps = small.steps.map { step in
            var step = step
            step.call.with = [:]
            step.call.action = "wait"
            step.call.with["duration"] = .literal(.duration(0))
            step.needs = []
            return step
        }
        let text = RunbookRenderer.render(small)
        #expect(text.utf8.count < RunbookLoader.Limits.file.maximumBytes)
        let refused = #expect(throws: RunbookValidationError.self) { try RunbookLoader.parse(text: text, path: "many.yaml") }
        #expect(refused?.problems.first?.message.contains("found 6000 steps, expected at most 5000") == true)
        #expect(try RunbookLoader.parse(text: text, path: "many.yaml", limits: .stored).steps.count == 6000)
    }
}
