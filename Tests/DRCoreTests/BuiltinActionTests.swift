import Foundation
import Testing
@testable import DRCore

/// Built-in actions on their own: notify's webhook outcomes and exec's redaction, timeout and observe.
struct BuiltinActionTests {
    func invocation(_ arguments: [String: RunValue], timeout: Double = 30, transport: (any HTTPTransport)? = nil) -> ActionInvocation {
        ActionInvocation(runId: "run-test", stepId: "step", attempt: 1, arguments: arguments, firstStartedAt: Date(),
                         deadline: Date().addingTimeInterval(timeout), isResume: false,
                         services: ActionServices(transport: transport, messages: { _ in }))
    }

    @Test func notifyPostsToTheWebhookAndClassifiesFailures() async throws {
        try await HTTPFixture.with { fixture in
            let transport = makeTestTransport()
            let ok = try await NotifyAction().act(invocation(["message": .string("failover done"), "webhook": .string(fixture.baseURL + "/echo")],
                                                             transport: transport))
            #expect(ok["status"] == .int(200))
            let serverError = await #expect(throws: ActionError.self) {
                _ = try await NotifyAction().act(self.invocation(["message": .string("x"), "webhook": .string(fixture.baseURL + "/status?code=503")],
                                                                 transport: transport))
            }
            #expect(serverError?.kind == .transient)
            let refused = await #expect(throws: ActionError.self) {
                _ = try await NotifyAction().act(self.invocation(["message": .string("x"), "webhook": .string(fixture.baseURL + "/status?code=403")],
                                                                 transport: transport))
            }
            #expect(refused?.kind == .permanent)
            #expect(refused.map { !$0.message.contains("?code") } == true)   // URLs are shown without their query
        }
    }

    @Test func execRedactsSecretsFromItsOutputAndErrors() async throws {
        let secret = "s3cr3t-Pa55word-value"
        let outputs = try await ExecAction().act(invocation([
            "command": .string("echo \"connecting with $DB_PASSWORD to postgres://app:hunter22@db:5432/x token=abcd1234 AKIAABCDEFGHIJKLMNOP\""),
            "env": .map(["DB_PASSWORD": .string(secret)]),
        ]))
        let stdout = try #require(outputs["stdout"]?.stringValue)
        #expect(!stdout.contains(secret))
        #expect(!stdout.contains("hunter22"))
        #expect(!stdout.contains("abcd1234"))
        #expect(!stdout.contains("AKIAABCDEFGHIJKLMNOP"))
        #expect(stdout.contains(SecretRedactor.mask))
        #expect(stdout.contains("connecting with"))

        let failure = await #expect(throws: ActionError.self) {
            _ = try await ExecAction().act(self.invocation(["command": .string("echo \"bad $API_TOKEN\" >&2; exit 3"),
                                                            "env": .map(["API_TOKEN": .string(secret)])]))
        }
        #expect(failure?.message.contains("exited 3") == true)
        #expect(failure.map { !$0.message.contains(secret) } == true)
    }

    @Test func execDoesNotPassDrctlsOwnEnvironmentThrough() async throws {
        setenv("DRCTL_TEST_LEAK_CHECK", "should-not-leak", 1)
        defer { unsetenv("DRCTL_TEST_LEAK_CHECK") }
        let outputs = try await ExecAction().act(invocation(["command": .string("echo \"[$DRCTL_TEST_LEAK_CHECK] $DRCTL_STEP_ID\"")]))
        #expect(outputs["stdout"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) == "[] step")
    }

    @Test func execTimesOutAndObserveDecidesWhetherToAct() async throws {
        let timedOut = await #expect(throws: ActionError.self) {
            _ = try await ExecAction().act(self.invocation(["command": .string("sleep 30"), "timeout": .duration(0.5)]))
        }
        #expect(timedOut?.kind == .timeout)
        let there = try await ExecAction().observe(invocation(["command": .string("false"), "observe": .string("true")]))
        #expect(there?["observed"] == .bool(true))
        let notThere = try await ExecAction().observe(invocation(["command": .string("true"), "observe": .string("false")]))
        #expect(notThere == nil)
    }

    @Test func redactorMasksKnownShapesAndLeavesOrdinaryTextAlone() {
        let redactor = SecretRedactor(secrets: ["literal-secret-value", "ab"])
        #expect(redactor.redact("password=hunter2 user=alice") == "password=\(SecretRedactor.mask) user=alice")
        #expect(redactor.redact("postgres://u:pw@h/db") == "postgres://u:\(SecretRedactor.mask)@h/db")
        #expect(redactor.redact("Authorization: Bearer abcdefghijk") == "Authorization: Bearer \(SecretRedactor.mask)")
        #expect(redactor.redact("the literal-secret-value here") == "the \(SecretRedactor.mask) here")
        #expect(redactor.redact("about ab testing") == "about ab testing")   // too short to be a secret
        #expect(redactor.redact("promoted orders-replica in us-west-2") == "promoted orders-replica in us-west-2")
    }
}
