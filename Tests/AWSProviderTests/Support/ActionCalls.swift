import Foundation
import Testing
@testable import AWSProvider
@testable import DRCore

/// The requests an action sends while a test runs it, checked against the permissions it declares:
/// every operation it called (identified from the wire by Fixtures/check_request_shapes.py, i.e.
/// botocore's models) must be among its `permissions`. Requests are attributed through a task-local
/// collector set around the action's observe / act / verify, and recorded by `RecordingTransport`
/// (every client `TestBed` hands out records), so every action test run through `StepRun.run` or
/// `RDSTestBed.run` is also a test of the action's declaration.
final class ActionCalls: @unchecked Sendable {
    @TaskLocal static var current: ActionCalls?

    private let lock = NSLock()
    private var requests: [HTTPRequest] = []

    func record(_ request: HTTPRequest) { lock.withLock { requests.append(request) } }
    var recorded: [HTTPRequest] { lock.withLock { requests } }

    /// Runs `body` (the action's parts) with its requests collected, then records an issue for each
    /// operation called that `action.permissions` does not name — whether or not `body` threw.
    static func checkingPermissions<T: Sendable>(of action: any RunbookAction, sourceLocation: SourceLocation = #_sourceLocation,
                                                 _ body: () async throws -> T) async throws -> T {
        let calls = ActionCalls()
        let result: Result<T, any Error>
        do { result = .success(try await $current.withValue(calls) { try await body() }) } catch { result = .failure(error) }
        try check(action, calls.recorded, sourceLocation: sourceLocation)
        return try result.get()
    }

    static func check(_ action: any RunbookAction, _ requests: [HTTPRequest], sourceLocation: SourceLocation) throws {
        guard !requests.isEmpty else { return }
        let declared = Set(action.permissions.compactMap(\.operation))
        for verdict in try checkRequestShapes(requests) {
            // botocore's model names are the IAM prefixes for every service drctl calls.
            guard let service = verdict.service, let operation = verdict.operation else {
                Issue.record("\(action.name) sent a request that is no operation of botocore's models", sourceLocation: sourceLocation)
                continue
            }
            #expect(declared.contains("\(service):\(operation)"),
                    "\(action.name) called \(service):\(operation) but does not declare it in `permissions`", sourceLocation: sourceLocation)
        }
    }
}
