import Foundation
import Testing

/// `drctl whoami --cloud gcp` as a real process against the test bed's GCP stand-in: who, which
/// project, where the credentials came from; exit 8 / 10 for wrong or malformed keys; never a secret.
@Suite(.serialized)
struct GCPWhoamiCLITests {
    struct Bed {
        let url: String
        let keyFile: String
        let adcFile: String
        let project: String
        let account: String

        static func require() throws -> Bed {
            let env = ProcessInfo.processInfo.environment
            guard let url = env["DRCTL_TESTBED_GCP_URL"], let key = env["DRCTL_TESTBED_GCP_KEY_FILE"], let adc = env["DRCTL_TESTBED_GCP_ADC_FILE"],
                  let project = env["DRCTL_TESTBED_GCP_PROJECT"], let account = env["DRCTL_TESTBED_GCP_SA_EMAIL"] else {
                Issue.record("the GCP stand-in is not running: run scripts/test.sh, or start Tests/TestBed/testbed.sh and source testbed.env")
                throw CocoaError(.featureUnsupported)
            }
            return Bed(url: url, keyFile: key, adcFile: adc, project: project, account: account)
        }

        /// Every secret the bed's credential files hold: the private key's base64 lines, the client
        /// secret and the refresh token.
        var secrets: [String] {
            var found: [String] = []
            for path in [keyFile, adcFile] {
                guard let data = FileManager.default.contents(atPath: path),
                      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
                if let pem = object["private_key"] as? String {
                    found += pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.map(String.init)
                }
                found += ["client_secret", "refresh_token"].compactMap { object[$0] as? String }
            }
            return found
        }

        func whoami(_ environment: [String: String], _ arguments: [String] = [], home: TemporaryHome) throws -> DrctlProcess.Result {
            var env = ["NO_GCE_CHECK": "true", "CLOUDSDK_API_ENDPOINT_OVERRIDES_OAUTH2": url + "/oauth2/",
                       "CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS": url + "/iamcredentials/"]
            env.merge(environment) { $1 }
            return try DrctlProcess.run(["whoami", "--cloud", "gcp"] + arguments, environment: env, home: home.url)
        }
    }

    static func expectNoSecret(_ result: DrctlProcess.Result, _ bed: Bed, sourceLocation: SourceLocation = #_sourceLocation) {
        let output = result.stdout + result.stderr
        for secret in bed.secrets where output.contains(secret) {
            Issue.record("a secret was printed: …\(secret.suffix(6))", sourceLocation: sourceLocation)
        }
        #expect(!output.contains("ya29.") && !output.contains("eyJ"), "a token or an assertion was printed", sourceLocation: sourceLocation)
    }

    @Test func serviceAccountKeyTextAndJSON() throws {
        let bed = try Bed.require(), home = try TemporaryHome()
        let text = try bed.whoami(["GOOGLE_APPLICATION_CREDENTIALS": bed.keyFile], home: home)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout == """
            Principal:     \(bed.account)
            Project:       \(bed.project) (from project_id in the credentials file)
            Quota project: none (the project of each resource pays)
            Credentials:   GOOGLE_APPLICATION_CREDENTIALS=\(bed.keyFile) (service_account)

            """, "\(text.stdout)")
        Self.expectNoSecret(text, bed)
        let json = try bed.whoami(["GOOGLE_APPLICATION_CREDENTIALS": bed.keyFile, "GOOGLE_CLOUD_QUOTA_PROJECT": bed.project], ["--output", "json"], home: home)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: String])
        #expect(object == ["principal": bed.account, "project": bed.project, "projectSource": "project_id in the credentials file",
                           "quotaProject": bed.project, "credentialSource": "GOOGLE_APPLICATION_CREDENTIALS=\(bed.keyFile) (service_account)"])
    }

    @Test func userCredentialsFromTheGcloudFileAndTheMetadataServer() throws {
        let bed = try Bed.require(), home = try TemporaryHome()
        try FileManager.default.createDirectory(at: home.url.appendingPathComponent(".config/gcloud"), withIntermediateDirectories: true)
        try home.write(".config/gcloud/application_default_credentials.json", String(contentsOfFile: bed.adcFile, encoding: .utf8))
        let user = try bed.whoami([:], home: home)
        #expect(user.status == 0, "\(user.stderr)")
        #expect(user.stdout.contains("Credentials:   gcloud ADC file \(home.url.path)/.config/gcloud/application_default_credentials.json (authorized_user)"), "\(user.stdout)")
        #expect(user.stdout.contains("Quota project: \(bed.project)"), "\(user.stdout)")
        Self.expectNoSecret(user, bed)

        let empty = try TemporaryHome()
        let metadata = try bed.whoami(["NO_GCE_CHECK": "", "GCE_METADATA_HOST": String(bed.url.dropFirst("http://".count))], home: empty)
        #expect(metadata.status == 0, "\(metadata.stderr)")
        #expect(metadata.stdout.contains("Principal:     drctl-gce@\(bed.project).iam.gserviceaccount.com"), "\(metadata.stdout)")
        #expect(metadata.stdout.contains("Credentials:   metadata server ("), "\(metadata.stdout)")
    }

    /// The bed's key file with another private key: the token endpoint refuses it — exit 8, and
    /// neither key shows.
    @Test func aWrongKeyExitsEightWithoutShowingIt() throws {
        let bed = try Bed.require(), home = try TemporaryHome()
        var key = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bed.keyFile))) as? [String: Any])
        let generate = Process()
        generate.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        generate.arguments = ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        let output = Pipe()
        generate.standardOutput = output
        try generate.run()
        let otherPEM = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        generate.waitUntilExit()
        key["private_key"] = otherPEM
        let path = home.url.appendingPathComponent("wrong.json").path
        try JSONSerialization.data(withJSONObject: key).write(to: URL(fileURLWithPath: path))
        let result = try bed.whoami(["GOOGLE_APPLICATION_CREDENTIALS": path], home: home)
        #expect(result.status == 8, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("invalid_grant"), "\(result.stderr)")
        Self.expectNoSecret(result, bed)
        for line in otherPEM.split(separator: "\n") where !line.hasPrefix("-----") {
            #expect(!result.stderr.contains(line), "the wrong key was printed")
        }
    }

    @Test(arguments: [
        (#"{"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com", "private_key": "-----BEGIN"#, "not valid JSON"),
        (#"{"type": "service_account", "private_key": "k", "token_uri": "https://oauth2.googleapis.com/token"}"#, "field client_email: missing"),
        (#"{"type": "service_account", "client_email": "a@b", "private_key": "-----BEGIN PRIVATE KEY-----\nTUlJQ0Fn\n-----END PRIVATE KEY-----\n", "token_uri": "https://oauth2.googleapis.com/token"}"#,
         "field private_key: expected an RSA private key in PEM"),
        (#"{"type": "api_key", "key": "k"}"#, "field type: found 'api_key', expected one of service_account"),
    ])
    func aMalformedKeyFileExitsTenNamingTheFileAndField(contents: String, expected: String) throws {
        let bed = try Bed.require(), home = try TemporaryHome()
        try home.write("key.json", contents)
        let path = home.url.appendingPathComponent("key.json").path
        let result = try bed.whoami(["GOOGLE_APPLICATION_CREDENTIALS": path], home: home)
        #expect(result.status == 10, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("\(path): \(expected)") || result.stderr.contains("\(path): field"), "\(result.stderr)")
        #expect(result.stderr.contains(expected), "\(result.stderr)")
        #expect(!result.stderr.contains("TUlJQ0Fn"))
    }

    @Test func noCredentialsAnywhereExitsEightQuickly() throws {
        let bed = try Bed.require(), home = try TemporaryHome()
        let started = Date()
        let result = try bed.whoami(["NO_GCE_CHECK": "", "GCE_METADATA_HOST": "127.0.0.1:1"], home: home)
        #expect(Date().timeIntervalSince(started) < 15)   // a bound against a hang, not a benchmark (see ApplicationDefaultCredentialsTests)
        #expect(result.status == 8, "\(result.stderr)")
        #expect(result.stderr.contains("no Google credentials found"), "\(result.stderr)")
        #expect(result.stderr.contains("metadata server: nothing answers at 127.0.0.1:1"), "\(result.stderr)")
    }
}
