import DRCore
import Foundation
import Testing
@testable import AWSProvider

/// Environment, profile, credential_process, assume-role and chain behaviour, against files in a
/// temporary HOME and a fake STS.
struct CredentialTests {
    /// A transport for providers that must not make HTTP calls in the test.
    struct NoNetwork: HTTPTransport {
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            throw TransportError(kind: .connect, url: request.url, detail: "no network in this test")
        }
    }

    func profileProvider(_ name: String, _ home: TemporaryHome, _ sts: FakeSecurityTokenService,
                         environment: [String: String] = [:], timeout: Duration = .seconds(10)) -> ProfileCredentialProvider {
        ProfileCredentialProvider(profile: name, environment: home.environment(environment), transport: NoNetwork(),
                                  sts: sts, processTimeout: timeout)
    }

    // MARK: Environment

    @Test func environmentProviderReadsKeysTokenAndExpiration() async throws {
        let resolved = try await EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret",
            "AWS_SESSION_TOKEN": "env-token", "AWS_CREDENTIAL_EXPIRATION": "2030-01-02T03:04:05Z",
        ]).resolve()
        #expect(resolved.credentials.accessKeyId == "AKIAENV")
        #expect(resolved.credentials.secretAccessKey == "env-secret")
        #expect(resolved.credentials.sessionToken == "env-token")
        #expect(resolved.credentials.expiration == Date(timeIntervalSince1970: 1_893_553_445))
        #expect(resolved.source == .environment)
    }

    @Test func environmentProviderRejectsHalfAKeyPairWithoutShowingIt() async {
        let error = await #expect(throws: CredentialError.self) {
            try await EnvironmentCredentialProvider(environment: ["AWS_SECRET_ACCESS_KEY": "half-secret"]).resolve()
        }
        #expect(error?.kind == .invalidConfiguration)
        #expect(error?.description.contains("half-secret") == false)
        let absent = await #expect(throws: CredentialError.self) {
            try await EnvironmentCredentialProvider(environment: [:]).resolve()
        }
        #expect(absent?.kind == .notFound)
    }

    // MARK: Profiles

    @Test func profileStaticKeysWithCredentialsFileWinning() async throws {
        let home = try TemporaryHome()
        try home.write(".aws/config", "[profile dev]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = config-secret\n")
        try home.write(".aws/credentials", "[dev]\naws_access_key_id = AKIACREDS\naws_secret_access_key = creds-secret\naws_session_token = tok\n")
        let resolved = try await profileProvider("dev", home, FakeSecurityTokenService()).resolve()
        #expect(resolved.credentials.accessKeyId == "AKIACREDS")
        #expect(resolved.credentials.sessionToken == "tok")
        #expect(resolved.source == .profile("dev"))
    }

    @Test func malformedCredentialsFileIsReportedWithItsLine() async throws {
        let home = try TemporaryHome()
        try home.write(".aws/credentials", "[default]\naws_access_key_id = AKIA1\nsecretwithoutequals\n")
        let error = await #expect(throws: CredentialError.self) {
            try await profileProvider("default", home, FakeSecurityTokenService()).resolve()
        }
        #expect(error?.kind == .malformedFile)
        #expect(error?.description.contains("credentials:3:") == true)
        #expect(error?.description.contains("secretwithoutequals") == false)
    }

    @Test func sourceProfileChainAssumesEachRoleInTurn() async throws {
        let home = try TemporaryHome()
        try home.write(".aws/config", """
        [profile app]
        role_arn = arn:aws:iam::111111111111:role/App
        source_profile = hub
        role_session_name = drctl-test
        external_id = ext-123
        duration_seconds = 1800
        region = eu-west-1
        [profile hub]
        role_arn = arn:aws:iam::222222222222:role/Hub
        source_profile = base
        """)
        try home.write(".aws/credentials", "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n")
        let sts = FakeSecurityTokenService()
        let resolved = try await profileProvider("app", home, sts).resolve()
        let calls = await sts.assumeRoleCalls
        #expect(calls.map(\.roleArn) == ["arn:aws:iam::222222222222:role/Hub", "arn:aws:iam::111111111111:role/App"])
        #expect(calls.map(\.sourceAccessKeyId) == ["AKIABASE", "ASIA-Hub"])
        #expect(calls.last == FakeSecurityTokenService.AssumeRoleCall(
            roleArn: "arn:aws:iam::111111111111:role/App", sessionName: "drctl-test", externalId: "ext-123",
            durationSeconds: 1800, sourceAccessKeyId: "ASIA-Hub", region: "eu-west-1"))
        #expect(resolved.credentials.accessKeyId == "ASIA-App")
        #expect(resolved.source.description
                == "assume-role arn:aws:iam::111111111111:role/App via assume-role arn:aws:iam::222222222222:role/Hub via profile base")
    }

    @Test func sourceProfileCycleIsRejectedBeforeAnySTSCall() async throws {
        let home = try TemporaryHome()
        try home.write(".aws/config", """
        [profile a]
        role_arn = arn:aws:iam::1:role/A
        source_profile = b
        [profile b]
        role_arn = arn:aws:iam::1:role/B
        source_profile = a
        """)
        let sts = FakeSecurityTokenService()
        let error = await #expect(throws: CredentialError.self) { try await profileProvider("a", home, sts).resolve() }
        #expect(error?.kind == .invalidConfiguration)
        #expect(error?.message.contains("a -> b -> a") == true)
        #expect(await sts.assumeRoleCalls.isEmpty)
    }

    @Test func profileMayUseItsOwnKeysAsSource() async throws {
        let home = try TemporaryHome()
        try home.write(".aws/credentials", """
        [self]
        aws_access_key_id = AKIASELF
        aws_secret_access_key = self-secret
        role_arn = arn:aws:iam::1:role/Self
        source_profile = self
        """)
        let sts = FakeSecurityTokenService()
        let resolved = try await profileProvider("self", home, sts).resolve()
        #expect(resolved.credentials.accessKeyId == "ASIA-Self")
        #expect(await sts.assumeRoleCalls.map(\.sourceAccessKeyId) == ["AKIASELF"])
    }

    @Test func credentialSourceEnvironmentFeedsAssumeRole() async throws {
        let home = try TemporaryHome()
        try home.write(".aws/config", "[profile ci]\nrole_arn = arn:aws:iam::1:role/Deploy\ncredential_source = Environment\n")
        let sts = FakeSecurityTokenService()
        let env = ["AWS_ACCESS_KEY_ID": "AKIACI", "AWS_SECRET_ACCESS_KEY": "ci-secret", "AWS_REGION": "us-west-2"]
        let resolved = try await profileProvider("ci", home, sts, environment: env).resolve()
        #expect(resolved.source == .assumeRole(roleArn: "arn:aws:iam::1:role/Deploy", via: .environment))
        let call = try #require(await sts.assumeRoleCalls.first)
        #expect(call.sourceAccessKeyId == "AKIACI")
        #expect(call.region == "us-west-2")
        #expect(call.sessionName.hasPrefix("drctl-"))

        let missing = await #expect(throws: CredentialError.self) {
            try await profileProvider("ci", home, sts).resolve()
        }
        #expect(missing?.kind == .invalidConfiguration, "a named source that finds nothing is not a chain miss")
    }

    @Test func refusedAssumeRoleIsAnSTSFailure() async throws {
        let home = try TemporaryHome()
        try home.write(".aws/credentials", """
        [base]
        aws_access_key_id = AKIABASE
        aws_secret_access_key = base-secret
        [target]
        role_arn = arn:aws:iam::1:role/Target
        source_profile = base
        """)
        let error = await #expect(throws: CredentialError.self) {
            try await profileProvider("target", home, FakeSecurityTokenService(refuses: true)).resolve()
        }
        #expect(error?.kind == .stsFailed)
        #expect(error?.description.contains("AccessDenied") == true)
        #expect(error?.description.contains("base-secret") == false)
    }

    // MARK: credential_process

    @Test func credentialProcessJSONIsParsed() async throws {
        let home = try TemporaryHome()
        let script = try home.write("creds.sh", """
        #!/bin/sh
        echo "fetching for $1" >&2
        cat <<'JSON'
        {"Version": 1, "AccessKeyId": "ASIAPROC", "SecretAccessKey": "proc-secret",
         "SessionToken": "proc-token", "Expiration": "2031-05-06T07:08:09.123Z"}
        JSON
        """, executable: true)
        try home.write(".aws/config", "[profile proc]\ncredential_process = \(script) prod\n")
        let resolved = try await profileProvider("proc", home, FakeSecurityTokenService()).resolve()
        #expect(resolved.credentials.accessKeyId == "ASIAPROC")
        #expect(resolved.credentials.sessionToken == "proc-token")
        #expect(resolved.credentials.expiration == CredentialTimestamp.parse("2031-05-06T07:08:09.123Z"))
        #expect(resolved.source == .process(profile: "proc"))
    }

    @Test func failingCredentialProcessShowsStatusButNotSecrets() async throws {
        let home = try TemporaryHome()
        let script = try home.write("fail.sh", """
        #!/bin/sh
        echo "vault login failed token=hvs.CAESIJ2x9sKq0Z8yLmNoPqRsTuVwXyZaBcDeF" >&2
        echo "second line with AKIASECONDLINE00000" >&2
        echo '{"SecretAccessKey": "printed-secret"}'
        exit 3
        """, executable: true)
        try home.write(".aws/config", "[profile proc]\ncredential_process = \(script) --token cmdline-secret\n")
        let error = await #expect(throws: CredentialError.self) {
            try await profileProvider("proc", home, FakeSecurityTokenService()).resolve()
        }
        let description = error?.description ?? ""
        #expect(error?.kind == .processFailed)
        #expect(description.contains("exited with status 3: vault login failed"))
        for secret in ["hvs.CAESIJ2x9sKq0Z8yLmNoPqRsTuVwXyZaBcDeF", "AKIASECONDLINE", "printed-secret", "cmdline-secret"] {
            #expect(!description.contains(secret))
        }
    }

    @Test(arguments: [
        (#"{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "S"}"#, "Version"),
        (#"{"Version": 1, "SecretAccessKey": "S"}"#, "AccessKeyId"),
        (#"not json at all"#, "not a JSON object"),
        (#"{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "S", "Expiration": "tomorrow"}"#, "Expiration"),
    ])
    func invalidCredentialProcessOutputIsRejected(output: String, complaint: String) async throws {
        let home = try TemporaryHome()
        let script = try home.write("bad.sh", "#!/bin/sh\ncat <<'EOF'\n\(output)\nEOF\n", executable: true)
        try home.write(".aws/config", "[profile proc]\ncredential_process = \(script)\n")
        let error = await #expect(throws: CredentialError.self) {
            try await profileProvider("proc", home, FakeSecurityTokenService()).resolve()
        }
        #expect(error?.kind == .processFailed)
        #expect(error?.message.contains(complaint) == true)
    }

    @Test func hangingCredentialProcessTimesOut() async throws {
        let home = try TemporaryHome()
        let script = try home.write("hang.sh", "#!/bin/sh\nsleep 300\n", executable: true)
        try home.write(".aws/config", "[profile proc]\ncredential_process = \(script)\n")
        let started = Date()
        let error = await #expect(throws: CredentialError.self) {
            try await profileProvider("proc", home, FakeSecurityTokenService(), timeout: .milliseconds(500)).resolve()
        }
        #expect(error?.message.contains("timed out") == true)
        // Behaviour, not speed: it gave up long before the 300 s command would have ended.
        #expect(Date().timeIntervalSince(started) < 120)
    }

    // MARK: Web identity

    @Test func webIdentityReadsTheTokenFileOnEveryResolve() async throws {
        let home = try TemporaryHome()
        let tokenFile = try home.write("token", "first-token\n")
        let sts = FakeSecurityTokenService()
        let provider = try WebIdentityCredentialProvider(environment: [
            "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::1:role/Pod",
            "AWS_ROLE_SESSION_NAME": "pod-session", "AWS_REGION": "eu-north-1",
        ], sts: sts)
        let first = try await provider.resolve()
        try home.write("token", "rotated-token")
        _ = try await provider.resolve()
        let calls = await sts.webIdentityCalls
        #expect(calls.map(\.token) == ["first-token", "rotated-token"])
        #expect(calls.first == FakeSecurityTokenService.WebIdentityCall(
            roleArn: "arn:aws:iam::1:role/Pod", sessionName: "pod-session", token: "first-token", region: "eu-north-1"))
        #expect(first.source == .webIdentity(roleArn: "arn:aws:iam::1:role/Pod"))
    }

    @Test func webIdentityInAProfile() async throws {
        let home = try TemporaryHome()
        let tokenFile = try home.write("token", "profile-token")
        try home.write(".aws/config", "[profile eks]\nrole_arn = arn:aws:iam::1:role/Eks\nweb_identity_token_file = \(tokenFile)\n")
        let sts = FakeSecurityTokenService()
        let resolved = try await profileProvider("eks", home, sts).resolve()
        #expect(resolved.credentials.accessKeyId == "ASIA-Eks")
        #expect(await sts.webIdentityCalls.map(\.token) == ["profile-token"])
    }

    // MARK: Chain

    @Test func chainPrefersEnvironmentOverDefaultProfile() async throws {
        let home = try TemporaryHome()
        try home.write(".aws/credentials", "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s\n")
        let withEnv = home.environment(["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s"])
        let chain = DefaultCredentialChain.make(environment: withEnv, transport: NoNetwork(), sts: FakeSecurityTokenService())
        #expect(try await chain.resolve().credentials.accessKeyId == "AKIAENV")
        let fileOnly = DefaultCredentialChain.make(environment: home.environment(), transport: NoNetwork(),
                                                   sts: FakeSecurityTokenService())
        #expect(try await fileOnly.resolve().source == .profile("default"))
    }

    @Test func explicitProfileIsTheOnlySourceUsed() async throws {
        let home = try TemporaryHome()
        try home.write(".aws/credentials", "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = s\n")
        var env = home.environment(["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_PROFILE": "dev"])
        let chain = DefaultCredentialChain.make(environment: env, transport: NoNetwork(), sts: FakeSecurityTokenService())
        #expect(try await chain.resolve().credentials.accessKeyId == "AKIADEV")

        env["AWS_PROFILE"] = nil
        let missing = DefaultCredentialChain.make(environment: env, profile: "nope", transport: NoNetwork(),
                                                  sts: FakeSecurityTokenService())
        let error = await #expect(throws: CredentialError.self) { try await missing.resolve() }
        #expect(error?.provider == "profile nope", "must not fall back to the environment keys")
    }

    @Test func emptyChainListsEveryProviderTried() async throws {
        let home = try TemporaryHome()
        let chain = DefaultCredentialChain.make(environment: home.environment(), transport: NoNetwork(),
                                                sts: FakeSecurityTokenService())
        let error = await #expect(throws: CredentialError.self) { try await chain.resolve() }
        #expect(error?.kind == .notFound)
        #expect(error?.attempts.map(\.provider) == ["environment", "web identity", "profile default", "container",
                                                     "instance metadata"])
        #expect(error?.description.contains("AWS_ACCESS_KEY_ID is not set") == true)
    }

    @Test func brokenConfiguredProviderStopsTheChain() async throws {
        let home = try TemporaryHome()
        let env = home.environment(["AWS_ACCESS_KEY_ID": "AKIAHALF"])
        try home.write(".aws/credentials", "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s\n")
        let chain = DefaultCredentialChain.make(environment: env, transport: NoNetwork(), sts: FakeSecurityTokenService())
        let error = await #expect(throws: CredentialError.self) { try await chain.resolve() }
        #expect(error?.kind == .invalidConfiguration)
        #expect(error?.provider == "environment")
    }

    @Test func descriptionsNeverShowSecrets() throws {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        let home = try TemporaryHome()
        try home.write(".aws/credentials", "[default]\naws_access_key_id = AKIA1\naws_secret_access_key = \(secret)\n")
        let env = home.environment(["AWS_SECRET_ACCESS_KEY": secret])
        let shared = try AWSSharedConfig(environment: env)
        let values: [Any] = [
            EnvironmentCredentialProvider(environment: env),
            ProfileCredentialProvider(profile: "default", environment: env, transport: NoNetwork(), sts: FakeSecurityTokenService()),
            ContainerCredentialProvider(environment: env, transport: NoNetwork()),
            InstanceMetadataCredentialProvider(environment: env, transport: NoNetwork()),
            CredentialProcess(command: "vault read --token \(secret)", profile: "p", environment: env),
            shared, try #require(shared.profile(named: "default")), try #require(shared.credentials),
            try AWSConfiguration(environment: env),
        ]
        for value in values {
            #expect(!String(describing: value).contains(secret), "\(type(of: value))")
            #expect(!String(reflecting: value).contains(secret), "\(type(of: value))")
        }
    }
}
