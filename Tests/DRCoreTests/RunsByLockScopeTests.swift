@testable import DRCore
import Foundation
import Testing

extension PostgresStateStoreTests {
    /// What `failover` reads to find an earlier move of the same plan: the runs of one lease scope.
    @Test("runs(lockScope:) lists the runs of one scope only, newest first and limited", arguments: Kind.allCases)
    func runsOfOneLockScope(_ kind: Kind) async throws {
        let location = try await Self.location(kind)
        defer { location.cleanup() }
        let store = try await location.open()
        let base = Date(timeIntervalSince1970: 1_750_000_000)
        for index in 0..<5 {
            var run = makeRun("run-\(index)", createdAt: base.addingTimeInterval(Double(index)))
            run.lockScope = index.isMultiple(of: 2) ? "plan:orders" : "plan:billing"
            try await store.createRun(run)
        }
        #expect(try await store.runs(lockScope: "plan:orders", limit: 10).map(\.id) == ["run-4", "run-2", "run-0"])
        #expect(try await store.runs(lockScope: "plan:billing", limit: 1).map(\.id) == ["run-3"])
        #expect(try await store.runs(lockScope: "plan:none", limit: 10).isEmpty)
    }
}
