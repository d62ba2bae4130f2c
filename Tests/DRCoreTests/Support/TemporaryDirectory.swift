import Foundation

/// A fresh directory under the system temp dir, removed by `with`'s end.
struct TemporaryDirectory {
    let url: URL

    static func with<Result>(_ body: (TemporaryDirectory) async throws -> Result) async throws -> Result {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        return try await body(TemporaryDirectory(url: url))
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func read(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }
}

/// Runs a command-line tool (found on PATH) to completion and returns its exit status and output.
/// The blocking reads and the wait happen on a thread of their own (see `onOwnThread`).
@discardableResult
func runTool(_ arguments: [String], in directory: TemporaryDirectory? = nil) async throws -> (status: Int32, output: String) {
    try await onOwnThread { try runToolBlocking(arguments, in: directory) }
}

private func runToolBlocking(_ arguments: [String], in directory: TemporaryDirectory?) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory.url }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

struct ToolFailure: Error, CustomStringConvertible {
    let command: [String]
    let output: String
    var description: String { "\(command.joined(separator: " ")) failed: \(output)" }
}

/// Runs a tool that must succeed (key and certificate generation).
func runToolChecked(_ arguments: [String], in directory: TemporaryDirectory? = nil) async throws {
    let (status, output) = try await runTool(arguments, in: directory)
    guard status == 0 else { throw ToolFailure(command: arguments, output: output) }
}

/// Runs blocking work (waiting for a process, many threads at once) on a thread of its own, so that
/// it does not hold one of the few threads every test's async code shares.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
