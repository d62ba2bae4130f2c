import Foundation
import Testing
@testable import AWSProvider

struct ConfigFileParsingTests {
    @Test func configFileSectionsCommentsAndCaseRules() throws {
        let text = """
        # leading comment
        ; another comment
        [default]
        region = us-east-1

        [profile dev]
        Region = eu-west-1   ; trailing comment after whitespace
        endpoint_url = http://localhost:4566/#anchor
        [sso-session corp]
        sso_region = us-east-2
        [services local]
        s3 =
          endpoint_url = http://localhost:9000
        [ignored]
        region = xx-ignored-1
        """
        let file = try AWSConfigFile.parse(text, path: "config", kind: .config)
        #expect(file.section(.profile, "default")?["region"] == "us-east-1")
        #expect(file.section(.profile, "dev")?["region"] == "eu-west-1")
        #expect(file.section(.profile, "dev")?["endpoint_url"] == "http://localhost:4566/#anchor")
        #expect(file.section(.ssoSession, "corp")?["sso_region"] == "us-east-2")
        #expect(file.section(.services, "local")?.subProperties["s3"]?["endpoint_url"] == "http://localhost:9000")
        #expect(file.section(.profile, "ignored") == nil)
        #expect(file.section(.profile, "Dev") == nil, "profile names are case-sensitive")
        #expect(file.sections.count == 4)
    }

    @Test func credentialsFileSectionsAreProfileNamesWithoutPrefix() throws {
        let text = """
        [dev]
        aws_access_key_id = AKIADEV
        [profile odd]
        aws_access_key_id = AKIAODD
        """
        let file = try AWSConfigFile.parse(text, path: "credentials", kind: .credentials)
        #expect(file.section(.profile, "dev")?["aws_access_key_id"] == "AKIADEV")
        #expect(file.section(.profile, "profile odd")?["aws_access_key_id"] == "AKIAODD")
        #expect(file.section(.profile, "odd") == nil)
    }

    @Test func indentedLinesContinueValuesOrFormSubProperties() throws {
        let text = """
        [profile p]
        s3 =
          endpoint_url = http://s3.local
          addressing_style = path
        note = first
          second
        """
        let profile = try #require(try AWSConfigFile.parse(text, path: "config", kind: .config).section(.profile, "p"))
        #expect(profile.subProperties["s3"] == ["endpoint_url": "http://s3.local", "addressing_style": "path"])
        #expect(profile["note"] == "first\nsecond")
    }

    @Test func profileDefaultWinsOverBareDefaultInConfig() throws {
        let text = """
        [profile default]
        region = eu-central-1
        [default]
        region = us-west-2
        output = json
        """
        let file = try AWSConfigFile.parse(text, path: "config", kind: .config)
        #expect(file.section(.profile, "default")?["region"] == "eu-central-1")
        #expect(file.section(.profile, "default")?["output"] == nil)
    }

    @Test func malformedLineNamesFileAndLineButNotTheSecret() throws {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        let text = "[default]\naws_access_key_id = AKIAEXAMPLE\n\n\(secret)\n"
        let error = #expect(throws: ConfigurationError.self) {
            try AWSConfigFile.parse(text, path: "/home/u/.aws/credentials", kind: .credentials)
        }
        #expect(error?.kind == .malformedFile)
        #expect(error?.line == 4)
        #expect(error?.description.hasPrefix("/home/u/.aws/credentials:4: expected 'name = value'") == true)
        #expect(error?.description.contains(secret) == false)
    }

    @Test(arguments: [
        ("region = us-east-1\n[default]", 1, "section header"),
        ("[default\nregion = x", 1, "ending in ']'"),
        ("[default]\n = value", 2, "setting name"),
        ("[profile p]\ns3 =\n  not-a-pair", 3, "under 's3'"),
    ])
    func malformedFilesReportWhatWasExpected(text: String, line: Int, expected: String) {
        let error = #expect(throws: ConfigurationError.self) {
            try AWSConfigFile.parse(text, path: "config", kind: .config)
        }
        #expect(error?.line == line)
        #expect(error?.message.contains(expected) == true)
    }

    @Test func credentialsFileWinsForKeysItHas() throws {
        let home = try TemporaryHome()
        try home.write(".aws/config", "[profile dev]\nregion = eu-west-1\naws_access_key_id = AKIAFROMCONFIG\n")
        try home.write(".aws/credentials", "[dev]\naws_access_key_id = AKIAFROMCREDENTIALS\n")
        let profile = try #require(try AWSSharedConfig(environment: home.environment()).profile(named: "dev"))
        #expect(profile["aws_access_key_id"] == "AKIAFROMCREDENTIALS")
        #expect(profile["region"] == "eu-west-1")
    }

    @Test func filePathsComeFromTheEnvironment() throws {
        let home = try TemporaryHome()
        let config = try home.write("custom-config", "[profile x]\nregion = ap-south-1\n")
        try home.write("custom-creds", "[x]\naws_access_key_id = AKIAX\n")
        let shared = try AWSSharedConfig(environment: home.environment([
            "AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": "~/custom-creds",
        ]))
        #expect(shared.profile(named: "x")?["region"] == "ap-south-1")
        #expect(shared.profile(named: "x")?["aws_access_key_id"] == "AKIAX")
        #expect(try AWSSharedConfig(environment: [:]).profile(named: "x") == nil, "no HOME: no default files")
    }
}

struct ConfigurationTests {
    func configuration(_ config: String, _ environment: [String: String] = [:], profile: String? = nil,
                       region: String? = nil) throws -> AWSConfiguration {
        let file = try AWSConfigFile.parse(config, path: "config", kind: .config)
        return try AWSConfiguration(environment: environment, profile: profile, region: region,
                                    sharedConfig: AWSSharedConfig(config: file, credentials: nil))
    }

    @Test func regionPrecedenceIsArgumentThenEnvironmentThenProfile() throws {
        let config = "[default]\nregion = from-profile\n"
        let env = ["AWS_REGION": "from-aws-region", "AWS_DEFAULT_REGION": "from-default-region"]
        #expect(try configuration(config, env, region: "from-argument").region == "from-argument")
        #expect(try configuration(config, env).region == "from-aws-region")
        #expect(try configuration(config, ["AWS_DEFAULT_REGION": "from-default-region"]).region == "from-default-region")
        #expect(try configuration(config).region == "from-profile")
        #expect(try configuration("").region == nil)
    }

    @Test func namedProfileComesFromArgumentThenAWSProfile() throws {
        let config = "[profile a]\nregion = r-a\n[profile b]\nregion = r-b\n"
        #expect(try configuration(config, ["AWS_PROFILE": "b"], profile: "a").region == "r-a")
        #expect(try configuration(config, ["AWS_PROFILE": "b"]).region == "r-b")
        let error = #expect(throws: ConfigurationError.self) { try configuration(config, profile: "missing") }
        #expect(error?.kind == .profileNotFound)
    }

    @Test(arguments: [
        (AWSServiceDescriptor.s3, "AWS_ENDPOINT_URL_S3", "s3"),
        (.sts, "AWS_ENDPOINT_URL_STS", "sts"),
        (.rds, "AWS_ENDPOINT_URL_RDS", "rds"),
        (.route53, "AWS_ENDPOINT_URL_ROUTE_53", "route_53"),
        (.autoScaling, "AWS_ENDPOINT_URL_AUTO_SCALING", "auto_scaling"),
        (.secretsManager, "AWS_ENDPOINT_URL_SECRETS_MANAGER", "secrets_manager"),
        (.eks, "AWS_ENDPOINT_URL_EKS", "eks"),
        (.ecs, "AWS_ENDPOINT_URL_ECS", "ecs"),
        (.cloudWatch, "AWS_ENDPOINT_URL_CLOUDWATCH", "cloudwatch"),
    ])
    func endpointSettingNamesFollowTheServiceId(service: AWSServiceDescriptor, variable: String, key: String) {
        #expect(service.endpointEnvironmentVariable == variable)
        #expect(service.configKey == key)
    }

    @Test func endpointOverridePrecedence() throws {
        let config = """
        [default]
        region = us-west-2
        endpoint_url = http://profile-global:1
        services = local
        [services local]
        route_53 =
          endpoint_url = http://services-route53:2
        """
        let serviceEnv = ["AWS_ENDPOINT_URL_ROUTE_53": "http://env-route53:3", "AWS_ENDPOINT_URL": "http://env-global:4"]
        #expect(try configuration(config, serviceEnv).endpoint(for: .route53).url == "http://env-route53:3")
        #expect(try configuration(config, ["AWS_ENDPOINT_URL": "http://env-global:4"]).endpoint(for: .route53).url
                == "http://env-global:4")
        #expect(try configuration(config).endpoint(for: .route53).url == "http://services-route53:2")
        let s3 = try configuration(config).endpoint(for: .s3)
        #expect(s3 == AWSEndpoint(url: "http://profile-global:1", signingRegion: "us-west-2", signingName: "s3",
                                  isConfigured: true))
    }

    @Test func ignoringConfiguredEndpointsRestoresTheStandardOnes() throws {
        let config = "[default]\nregion = eu-west-1\nendpoint_url = http://localhost:5000\n"
        let ignored = try configuration(config, ["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
                                                 "AWS_ENDPOINT_URL_RDS": "http://localhost:5001"])
        #expect(try ignored.endpoint(for: .rds).url == "https://rds.eu-west-1.amazonaws.com")
        let viaProfile = try configuration(config + "ignore_configured_endpoint_urls = true\n")
        #expect(try viaProfile.endpoint(for: .s3).url == "https://s3.eu-west-1.amazonaws.com")
    }

    @Test func standardEndpoints() {
        #expect(AWSEndpoint.standard(for: .s3, region: "eu-west-1").url == "https://s3.eu-west-1.amazonaws.com")
        #expect(AWSEndpoint.standard(for: .cloudWatch, region: "us-east-2").url == "https://monitoring.us-east-2.amazonaws.com")
        let route53 = AWSEndpoint.standard(for: .route53, region: "ap-southeast-2")
        #expect(route53.url == "https://route53.amazonaws.com")
        #expect(route53.signingRegion == "us-east-1")
        #expect(AWSEndpoint.standard(for: .sts, region: "eu-west-1").url == "https://sts.eu-west-1.amazonaws.com")
        let legacySTS = AWSEndpoint.standard(for: .sts, region: "eu-west-1", regionalSTS: false)
        #expect(legacySTS.url == "https://sts.amazonaws.com")
        #expect(legacySTS.signingRegion == "us-east-1")
        #expect(AWSEndpoint.standard(for: .rds, region: "cn-north-1").url == "https://rds.cn-north-1.amazonaws.com.cn")
    }

    @Test func stsRegionalEndpointsSettingSelectsTheGlobalEndpoint() throws {
        let legacy = try configuration("[default]\nregion = eu-west-1\nsts_regional_endpoints = legacy\n")
        #expect(try legacy.endpoint(for: .sts).url == "https://sts.amazonaws.com")
        let regional = try configuration("[default]\nregion = eu-west-1\n")
        #expect(try regional.endpoint(for: .sts).url == "https://sts.eu-west-1.amazonaws.com")
    }

    @Test func regionalServiceWithoutRegionIsAnError() throws {
        let error = #expect(throws: ConfigurationError.self) { try configuration("").endpoint(for: .rds) }
        #expect(error?.kind == .missingRegion)
        #expect(try configuration("").endpoint(for: .route53).url == "https://route53.amazonaws.com")
    }

    @Test func retrySettingsFromEnvironmentOverProfile() throws {
        let config = "[default]\nmax_attempts = 5\nretry_mode = adaptive\n"
        let fromProfile = try configuration(config)
        #expect(fromProfile.maxAttempts == 5)
        #expect(fromProfile.retryMode == .adaptive)
        let fromEnvironment = try configuration(config, ["AWS_MAX_ATTEMPTS": "2", "AWS_RETRY_MODE": "Standard"])
        #expect(fromEnvironment.maxAttempts == 2)
        #expect(fromEnvironment.retryMode == .standard)
        let error = #expect(throws: ConfigurationError.self) { try configuration(config, ["AWS_MAX_ATTEMPTS": "0"]) }
        #expect(error?.message.contains("AWS_MAX_ATTEMPTS") == true)
        #expect(throws: ConfigurationError.self) { try configuration("[default]\nretry_mode = fast\n") }
    }

    @Test func endpointURLMustBeHTTP() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try configuration("[default]\nregion = us-east-1\n", ["AWS_ENDPOINT_URL_S3": "localhost:9000"]).endpoint(for: .s3)
        }
        #expect(error?.message.contains("AWS_ENDPOINT_URL_S3") == true)
    }
}

/// Found by the `aws-config` fuzz target: a setting given again replaces its whole value, nested
/// block included, as a later `key = value` does in the SDKs; the old block must not survive.
@Suite("Config files: a setting given again")
struct ConfigSettingGivenAgainTests {
    @Test func aPlainValueReplacesAnEarlierNestedBlock() throws {
        let text = "[profile p]\ns3 =\n  endpoint_url = http://old\ns3 = plain\n"
        let section = try #require(try AWSConfigFile.parse(text, path: "config", kind: .config).section(.profile, "p"))
        #expect(section["s3"] == "plain")
        #expect(section.subProperties["s3"] == nil)
    }

    @Test func aLaterSectionOfTheSameNameReplacesTheBlockToo() throws {
        let text = "[profile p]\ns3 =\n  endpoint_url = http://old\n[profile p]\ns3 = plain\n"
        let section = try #require(try AWSConfigFile.parse(text, path: "config", kind: .config).section(.profile, "p"))
        #expect(section["s3"] == "plain")
        #expect(section.subProperties["s3"] == nil)
    }

    @Test func aNewBlockReplacesTheOldOneInsteadOfMergingWithIt() throws {
        let text = "[profile p]\ns3 =\n  endpoint_url = http://old\ns3 =\n  addressing_style = path\n"
        let section = try #require(try AWSConfigFile.parse(text, path: "config", kind: .config).section(.profile, "p"))
        #expect(section.subProperties["s3"] == ["addressing_style": "path"])
    }
}

/// Found by the `aws-config` fuzz target: Swift reads "\r\n" as one Character, so splitting on
/// "\n" left a CRLF file (saved on Windows) as a single line. Lines end at "\n", "\r\n" or "\r",
/// as Python's universal newlines end them for the AWS CLI.
@Suite("Config files with Windows line endings")
struct ConfigLineEndingTests {
    @Test func crlfFilesReadLikeLFFiles() throws {
        let text = "[default]\r\nregion = us-east-1\r\n[profile dev]\r\nregion = eu-west-1\r\ns3 =\r\n  addressing_style = path\r\n"
        let file = try AWSConfigFile.parse(text, path: "config", kind: .config)
        #expect(file.section(.profile, "default")?["region"] == "us-east-1")
        #expect(file.section(.profile, "dev")?["region"] == "eu-west-1")
        #expect(file.section(.profile, "dev")?.subProperties["s3"] == ["addressing_style": "path"])
    }

    @Test func errorsInCRLFFilesNameTheirLine() {
        let error = #expect(throws: ConfigurationError.self) {
            try AWSConfigFile.parse("[default]\r\nregion = us-east-1\r\nnot a setting\r\n", path: "config", kind: .config)
        }
        #expect(error?.line == 3)
    }
}
