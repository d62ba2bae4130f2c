import Foundation
import Testing

/// Issue 16, defect 7: `AWS_CA_BUNDLE` and a profile's `ca_bundle` decide which CAs drctl trusts
/// for AWS, as in boto3 — against a real TLS server (Tests/TestBed/tls_sts_stub.py) whose CA
/// exists only in the bundle the stub writes, like a TLS-intercepting corporate proxy.
@Suite(.serialized)
struct CABundleTests {
    /// The running stub; closing its stdin stops it.
    final class Stub {
        let process = Process()
        let input = Pipe()
        let port: Int
        let bundle: String

        init(home: TemporaryHome) throws {
            bundle = home.url.appendingPathComponent("corporate-ca.pem").path
            let output = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "Tests/TestBed/tls_sts_stub.py", bundle]
            (process.standardInput, process.standardOutput) = (input, output)
            try process.run()
            var line = Data()
            while let byte = try output.fileHandleForReading.read(upToCount: 1), let first = byte.first, first != UInt8(ascii: "\n") {
                line.append(first)
            }
            port = try #require(Int(String(decoding: line, as: UTF8.self)), "the TLS stub did not start")
        }

        var url: String { "https://127.0.0.1:\(port)" }

        deinit {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }

    static let credentials = ["AWS_ACCESS_KEY_ID": "AKIDTLSSTUB", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret", "AWS_REGION": "us-west-2"]

    func whoami(_ stub: Stub, home: TemporaryHome, _ extra: [String: String] = [:], arguments: [String] = []) throws -> DrctlProcess.Result {
        try DrctlProcess.run(["whoami"] + arguments,
                             environment: Self.credentials.merging(["AWS_ENDPOINT_URL": stub.url]) { $1 }.merging(extra) { $1 }, home: home.url)
    }

    @Test func withoutTheBundleTheServerIsNotTrusted() throws {
        let home = try TemporaryHome()
        let stub = try Stub(home: home)
        let result = try whoami(stub, home: home)
        #expect(result.status != 0)
        #expect(result.stderr.contains("AWS_CA_BUNDLE"), "\(result.stderr)")
        #expect(!result.stdout.contains("210987654321"))
    }

    @Test func awsCABundleIsTrusted() throws {
        let home = try TemporaryHome()
        let stub = try Stub(home: home)
        let result = try whoami(stub, home: home, ["AWS_CA_BUNDLE": stub.bundle])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("210987654321"))
    }

    @Test func aProfilesCABundleIsTrusted() throws {
        let home = try TemporaryHome()
        let stub = try Stub(home: home)
        try home.write(".aws/config", """
        [profile corp]
        ca_bundle = \(stub.bundle)
        """)
        try home.write(".aws/credentials", """
        [corp]
        aws_access_key_id = AKIDTLSSTUB
        aws_secret_access_key = not-a-real-secret
        """)
        let result = try whoami(stub, home: home, arguments: ["--profile", "corp"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("210987654321"))
    }

    @Test func aBundleThatCannotBeReadIsAConfigurationErrorNamingItsSource() throws {
        let home = try TemporaryHome()
        let stub = try Stub(home: home)
        let missing = home.url.appendingPathComponent("no-such-bundle.pem").path
        let result = try whoami(stub, home: home, ["AWS_CA_BUNDLE": missing])
        #expect(result.status == 10, "\(result.stdout)")
        #expect(result.stderr.contains("AWS_CA_BUNDLE") && result.stderr.contains(missing), "\(result.stderr)")
    }
}
