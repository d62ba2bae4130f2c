import DRCore
import Foundation
import Testing

@Suite("SQLiteStateStore commits concurrent journal appends together")
struct JournalGroupCommitTests {
    @Test("two hundred concurrent appends to two runs get gap-free, unique sequence numbers, and read back whole")
    func concurrentAppendsAreNumberedWithoutGaps() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try SQLiteStateStore(path: dir.path("state.db"))
            try await store.createRun(makeRun("run-a"))
            try await store.createRun(makeRun("run-b"))
            let sequences = try await withThrowingTaskGroup(of: (String, Int64).self) { group in
                for index in 0..<200 {
                    let run = index.isMultiple(of: 2) ? "run-a" : "run-b"
                    // Durable and relaxed kinds mixed, as steps write intents and outcomes at once.
                    let kind: JournalKind = index.isMultiple(of: 3) ? .intent : .outcome
                    group.addTask {
                        (run, try await store.append(JournalEntry(runId: run, at: Date(), kind: kind, stepId: "step-\(index)", attempt: 1,
                                                                  detail: ["index": .int(index)])))
                    }
                }
                var byRun: [String: [Int64]] = [:]
                for try await (run, sequence) in group { byRun[run, default: []].append(sequence) }
                return byRun
            }
            #expect(sequences["run-a"]?.sorted() == Array(1...100))
            #expect(sequences["run-b"]?.sorted() == Array(1...100))
            let journal = try await store.journal(runId: "run-a")
            #expect(journal.count == 100)
            #expect(Set(journal.compactMap { $0.detail["index"]?.intValue }) == Set(stride(from: 0, to: 200, by: 2)))
        }
    }

    @Test("an append that cannot be written fails alone; the appends committed with it succeed")
    func aBadAppendFailsOnlyItself() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try SQLiteStateStore(path: dir.path("state.db"))
            try await store.createRun(makeRun("run-a"))
            let results = await withTaskGroup(of: (String, Bool).self) { group in
                for index in 0..<20 {
                    // A journal entry of a run that does not exist violates the foreign key.
                    let run = index == 7 ? "no-such-run" : "run-a"
                    group.addTask {
                        do {
                            _ = try await store.append(JournalEntry(runId: run, at: Date(), kind: .intent, stepId: "s\(index)", detail: [:]))
                            return (run, true)
                        } catch {
                            return (run, false)
                        }
                    }
                }
                var outcomes: [(String, Bool)] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            #expect(results.filter { $0.0 == "run-a" }.allSatisfy { $0.1 })
            #expect(results.filter { $0.0 == "no-such-run" }.map(\.1) == [false])
            let sequences = try await store.journal(runId: "run-a").map(\.sequence)
            #expect(sequences == Array(1...19))
        }
    }
}
