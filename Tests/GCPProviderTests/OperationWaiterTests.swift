import DRCore
import Foundation
import Testing
@testable import GCPProvider

@Suite struct OperationWaiterTests {
    struct InstantClock: EngineClock {
        func now() -> Date { Date() }
        func sleep(seconds: Double) async throws {}
    }

    final class Polls: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        let answers: [String]
        init(_ answers: [String]) { self.answers = answers }
        var made: Int { lock.withLock { count } }
        func next() throws -> GCPOperation {
            let index = lock.withLock { count += 1; return count - 1 }
            return try JSONDecoder().decode(GCPOperation.self, from: Data(answers[min(index, answers.count - 1)].utf8))
        }
    }

    let waiter = GCPOperationWaiter(what: "promoteReplica of db", clock: InstantClock())

    @Test func pollsUntilDone() async throws {
        let polls = Polls([#"{"kind":"sql#operation","name":"op-1","status":"PENDING"}"#,
                           #"{"name":"op-1","status":"RUNNING"}"#, #"{"name":"op-1","status":"DONE"}"#])
        let done = try await waiter.wait(until: Date().addingTimeInterval(60)) { try polls.next() }
        #expect(done.isDone && polls.made == 3)
    }

    @Test func aFailedOperationIsATypedFailureWithItsErrors() async throws {
        let polls = Polls([#"{"name":"op-2","status":"DONE","error":{"kind":"sql#operationErrors","errors":[{"code":"INTERNAL_ERROR","message":"replica is not in a promotable state"}]}}"#])
        let error = await #expect(throws: Waiter<GCPOperation>.Failed.self) {
            try await waiter.wait(until: Date().addingTimeInterval(60)) { try polls.next() }
        }
        #expect(error?.description == "promoteReplica of db: operation op-2 failed (INTERNAL_ERROR): replica is not in a promotable state")
    }

    @Test func longRunningOperationsAndDNSChangesToo() async throws {
        let lro = Polls([#"{"name":"operations/x","done":false}"#, #"{"name":"operations/x","done":true,"error":{"code":9,"message":"precondition"}}"#])
        await #expect(throws: Waiter<GCPOperation>.Failed.self) { try await waiter.wait(until: Date().addingTimeInterval(60)) { try lro.next() } }
        let dns = Polls([#"{"id":"7","status":"pending"}"#, #"{"id":"7","status":"done"}"#])
        #expect(try await waiter.wait(until: Date().addingTimeInterval(60)) { try dns.next() }.name == "7")
    }

    @Test func anOperationAlreadyDoneIsNotPolled() async throws {
        let first = try JSONDecoder().decode(GCPOperation.self, from: Data(#"{"name":"op-3","status":"DONE"}"#.utf8))
        let polls = Polls([#"{"name":"op-3","status":"RUNNING"}"#])
        _ = try await waiter.wait(for: first, until: Date().addingTimeInterval(60)) { try polls.next() }
        #expect(polls.made == 0)
    }
}
