import Foundation
import Testing

/// Runs Fixtures/google_auth_check.py: google-auth, the reference client, as the judge.
enum GoogleAuthCheck {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    struct Result {
        let status: Int32
        let stdout: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] ?? [:] }
    }

    static func run(_ arguments: [String]) throws -> Result {
        guard let script = Bundle.module.url(forResource: "google_auth_check", withExtension: "py", subdirectory: "Fixtures") else {
            throw Failure(description: "google_auth_check.py missing from the test bundle")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self))
    }

    /// A fresh service-account key (`key.json`) and its certificate (`cert.pem`) in `directory`.
    static func makeKey(in directory: String, tokenURI: String = "https://oauth2.googleapis.com/token") throws -> (key: String, cert: String) {
        let result = try run(["keyfile", directory, "--token-uri", tokenURI])
        guard result.status == 0 else { throw Failure(description: "keyfile generation failed") }
        return (directory + "/key.json", directory + "/cert.pem")
    }
}
