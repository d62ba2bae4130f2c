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
        try await check(action, calls.recorded, sourceLocation: sourceLocation)
        return try result.get()
    }

    static func check(_ action: any RunbookAction, _ requests: [HTTPRequest], sourceLocation: SourceLocation) async throws {
        guard !requests.isEmpty else { return }
        let declared = Set(action.permissions.compactMap(\.operation))
        for verdict in try await RequestShapeServer.shared.verdicts(requests) {
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

/// One `check_request_shapes.py --serve` for the whole test process: a process per check (loading
/// botocore's models each time) slowed the parallel suite enough to break its timing-sensitive tests.
actor RequestShapeServer {
    static let shared = RequestShapeServer()

    private var process: Process?
    private var input: FileHandle?
    private var output: FileHandle?
    private var buffered = Data()

    func verdicts(_ requests: [HTTPRequest]) throws -> [RequestShapeVerdict] {
        if process == nil { try start() }
        guard let input, let output else { return [] }
        var line = try JSONSerialization.data(withJSONObject: requests.map(requestShapeInput))
        line.append(0x0A)
        try input.write(contentsOf: line)
        while !buffered.contains(0x0A) {
            let more = output.availableData
            guard !more.isEmpty else { throw TestBedMissing() }
            buffered.append(more)
        }
        let end = buffered.firstIndex(of: 0x0A)!
        let answer = buffered[buffered.startIndex..<end]
        buffered = Data(buffered[(end + 1)...])
        return try JSONDecoder().decode([RequestShapeVerdict].self, from: Data(answer))
    }

    private func start() throws {
        guard let script = Bundle.module.url(forResource: "check_request_shapes", withExtension: "py", subdirectory: "Fixtures") else {
            throw TestBedMissing()
        }
        let process = Process(), stdin = Pipe(), stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--serve"]
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        self.process = process
        input = stdin.fileHandleForWriting
        output = stdout.fileHandleForReading
    }
}
