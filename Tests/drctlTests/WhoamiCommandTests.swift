import Foundation
import Testing

/// `drctl whoami` and the CLI contract (help, version, exit codes), run as a real process.
@Suite(.serialized)
struct WhoamiCommandTests {
    @Test func helpAndVersionExitZero() throws {
        let help = try DrctlProcess.run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("whoami"))
        let version = try DrctlProcess.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
    }

    @Test func unknownFlagIsAUsageError() throws {
        let result = try DrctlProcess.run(["whoami", "--no-such-flag"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--no-such-flag"))
    }

    @Test func badOutputFormatIsAUsageError() throws {
        let result = try DrctlProcess.run(["whoami", "--output", "yaml"])
        #expect(result.status == 2)
    }

    @Test func whoamiWithEnvironmentCredentialsPrintsAccountArnSourceAndRegion() throws {
        let bed = try TestBedEnvironment.require()
        let home = try TemporaryHome()
        let result = try DrctlProcess.run(["whoami"], environment: [
            "AWS_ACCESS_KEY_ID": bed.accessKeyId, "AWS_SECRET_ACCESS_KEY": bed.secretAccessKey,
            "AWS_REGION": "us-west-2", "AWS_ENDPOINT_URL": bed.endpointURL,
        ], home: home.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Account:      \(bed.accountId)"))
        #expect(result.stdout.contains(bed.userArn))
        #expect(result.stdout.contains("Credentials:  environment"))
        #expect(result.stdout.contains("Region:       us-west-2 (from AWS_REGION)"))
        #expect(!result.stdout.contains(bed.secretAccessKey) && !result.stderr.contains(bed.secretAccessKey))
    }

    @Test func whoamiWithAProfileAndServiceEndpointOverrideAsJSON() throws {
        let bed = try TestBedEnvironment.require()
        let home = try TemporaryHome()
        try home.write(".aws/credentials", """
        [ops]
        aws_access_key_id = \(bed.accessKeyId)
        aws_secret_access_key = \(bed.secretAccessKey)
        """)
        try home.write(".aws/config", """
        [profile ops]
        region = eu-west-1
        services = local

        [services local]
        sts =
          endpoint_url = \(bed.endpointURL)
        """)
        let result = try DrctlProcess.run(["whoami", "--profile", "ops", "--output", "json"], home: home.url)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["account"] as? String == bed.accountId)
        #expect(object["credentialSource"] as? String == "profile ops")
        #expect(object["region"] as? String == "eu-west-1")
        #expect(object["endpoint"] as? String == bed.endpointURL)
        #expect(object["endpointOverridden"] as? Bool == true)
    }

    @Test func wrongSecretIsAnAuthenticationFailureWithItsOwnExitCode() throws {
        let bed = try TestBedEnvironment.require()
        let home = try TemporaryHome()
        let wrongSecret = "WRONG" + bed.secretAccessKey.dropFirst(5)
        let result = try DrctlProcess.run(["whoami"], environment: [
            "AWS_ACCESS_KEY_ID": bed.accessKeyId, "AWS_SECRET_ACCESS_KEY": wrongSecret,
            "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": bed.endpointURL,
        ], home: home.url)
        #expect(result.status == 8)
        #expect(result.stderr.contains("SignatureDoesNotMatch") || result.stderr.contains("InvalidClientTokenId"))
        #expect(!result.stderr.contains(wrongSecret))
        #expect(result.stdout.isEmpty)
    }

    @Test func noCredentialsAnywhereIsAnAuthenticationFailureListingWhatWasTried() throws {
        let home = try TemporaryHome()
        let result = try DrctlProcess.run(["whoami", "--region", "us-east-1"], environment: [
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            // Container and IMDS endpoints pointed at a closed port: nothing to find there either.
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9",
        ], home: home.url)
        #expect(result.status == 8)
        #expect(result.stderr.contains("environment"))
        #expect(result.stderr.contains("hint:"))
    }

    @Test func malformedCredentialsFileNamesFileAndLineWithoutItsSecrets() throws {
        let home = try TemporaryHome()
        try home.write(".aws/credentials", """
        [default]
        aws_access_key_id = AKIAEXAMPLE
        this line has no equals sign SECRETVALUE123
        """)
        let result = try DrctlProcess.run(["whoami", "--region", "us-east-1"], home: home.url)
        #expect(result.status == 10)
        #expect(result.stderr.contains("credentials:3"))
        #expect(!result.stderr.contains("SECRETVALUE123"))
    }

    @Test func missingRegionIsAConfigurationError() throws {
        let home = try TemporaryHome()
        let result = try DrctlProcess.run(["whoami"], environment: [
            "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-never-printed",
        ], home: home.url)
        #expect(result.status == 10)
        #expect(result.stderr.contains("region"))
        #expect(!result.stderr.contains("secret-never-printed"))
    }

    @Test func unreachableEndpointIsACloudError() throws {
        let home = try TemporaryHome()
        let result = try DrctlProcess.run(["whoami", "--region", "us-east-1"], environment: [
            "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-never-printed",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1",
        ], home: home.url)
        #expect(result.status == 9)
        #expect(result.stderr.contains("could not connect"))
    }
}
