import Foundation
import Testing

/// Runs the real `drctl` executable built next to the tests, with a controlled environment
/// (no inherited AWS variables, a temp HOME), and captures its exit code and output.
struct DrctlProcess {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static var executable: URL {
        // Another build (e.g. one from before a fix, to show a test failing without it).
        if let other = ProcessInfo.processInfo.environment["DRCTL_TEST_EXECUTABLE"] { return URL(fileURLWithPath: other) }
        // The test bundle lives in the same build directory as the executable.
        var directory = Bundle.main.bundleURL
        if directory.pathExtension == "xctest" { directory.deleteLastPathComponent() }
        let beside = directory.appendingPathComponent("drctl")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug/drctl")
    }

    static func run(_ arguments: [String], environment: [String: String] = [:], home: URL? = nil, directory: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var env: [String: String] = ["PATH": "/usr/bin:/bin", "NO_COLOR": "1",
                                     "AWS_EC2_METADATA_DISABLED": "true"]
        if let home { env["HOME"] = home.path }
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        // Never the test runner's terminal: commands that would prompt must see no tty.
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes before waiting so a full pipe cannot deadlock the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}

extension DrctlProcess {
    /// Runs `python3 ARGUMENTS` (the test bed's helper scripts) with this process's environment plus
    /// `environment`, and captures its output.
    static func python(_ arguments: [String], environment: [String: String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// The test bed's coordinates (see Tests/TestBed/testbed.sh); tests fail clearly without it.
/// CLI tests talk to moto directly: the fault proxy belongs to the AWS provider's fault tests.
struct TestBedEnvironment {
    let endpointURL: String
    let accessKeyId: String
    let secretAccessKey: String
    let accountId: String
    let userArn: String

    static func require() throws -> TestBedEnvironment {
        let env = ProcessInfo.processInfo.environment
        guard let moto = env["DRCTL_TESTBED_MOTO_URL"], let key = env["DRCTL_TESTBED_ACCESS_KEY_ID"],
              let secret = env["DRCTL_TESTBED_SECRET_ACCESS_KEY"] else {
            Issue.record("the test bed is not running: run scripts/test.sh")
            throw CancellationError()
        }
        return TestBedEnvironment(endpointURL: moto, accessKeyId: key, secretAccessKey: secret,
                                  accountId: env["DRCTL_TESTBED_ACCOUNT_ID"] ?? "", userArn: env["DRCTL_TESTBED_USER_ARN"] ?? "")
    }
}

/// A temporary directory removed when the value is released.
final class TemporaryHome {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url.appendingPathComponent(".aws"), withIntermediateDirectories: true)
    }

    func write(_ relativePath: String, _ text: String) throws {
        try text.write(to: url.appendingPathComponent(relativePath), atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}
