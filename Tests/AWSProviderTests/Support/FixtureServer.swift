import DRCore
import Foundation

/// A Python fixture server from `Fixtures/` run for one test: it binds a free loopback port,
/// prints it, answers `GET /calls` with the requests it has seen, and exits after its TTL.
final class FixtureServer: @unchecked Sendable {
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    let port: Int
    private let process: Process

    init(script name: String, arguments: [String] = []) throws {
        guard let script = Bundle.module.url(forResource: name, withExtension: "py", subdirectory: "Fixtures") else {
            throw Missing(description: "\(name).py missing from the test bundle")
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--ttl", "120"] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw Missing(description: "\(name).py printed no port")
        }
        self.port = port
    }

    deinit { stop() }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// SIGKILL, because a child spawned from the test runner inherits its blocked SIGTERM.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Requests the server has seen, as "METHOD path" → count (its own `/calls` left out).
    func calls(using transport: any HTTPTransport = CurlTransport(configuration: .init(proxy: ProxySettings()))) async throws -> [String: Int] {
        let response = try await transport.send(HTTPRequest(method: "GET", url: baseURL + "/calls"))
        let decoded = try JSONDecoder().decode([String: Int].self, from: Data(response.body))
        return decoded.filter { $0.key != "GET /calls" }
    }
}
