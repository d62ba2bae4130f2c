import DRCore
import Foundation
import Testing
@testable import GCPProvider

/// Runs `gcp.*` actions against the test bed's stand-in as the engine does (observe; act and
/// verify when observe found nothing to keep), with a clock whose waits are ten times shorter.
struct GCPActionHarness {
    struct FastClock: EngineClock {
        func now() -> Date { Date() }
        func sleep(seconds: Double) async throws { try await Task.sleep(for: .seconds(seconds / 10)) }
    }

    let bed: GCPStandIn
    let source: GCPClientSource
    let actions: [String: any RunbookAction]
    let environment: [String: String]
    /// Unique per test: the bed is shared with the other stand-in suites, so names never collide.
    let tag = String(UUID().uuidString.prefix(6)).lowercased()

    static let services = ["SQLADMIN": "sqladmin", "DNS": "dns", "CONTAINER": "container", "MONITORING": "monitoring",
                           "STORAGE": "storage", "STORAGETRANSFER": "storagetransfer"]

    /// `keyFile`: the credentials (default: a service account of its own with the editor role, so
    /// that the credential suites' counts of tokens issued to the bed's account stay theirs).
    /// `storageURL`: Cloud Storage's root (gcp-storage-emulator) instead of the stand-in's bucket metadata.
    init(keyFile: String? = nil, storageURL: String? = nil) async throws {
        bed = try GCPStandIn.require()
        var key = keyFile
        if key == nil {
            let path = NSTemporaryDirectory() + "drctl-actions-\(tag).json"
            try await bed.admin("POST", "service-accounts", ["name": "actions-\(tag)", "roles": ["roles/editor"], "write_to": path])
            key = path
        }
        var env = ["HOME": NSTemporaryDirectory(), "NO_GCE_CHECK": "true", "GOOGLE_APPLICATION_CREDENTIALS": key!,
                   "CLOUDSDK_API_ENDPOINT_OVERRIDES_OAUTH2": bed.url + "/oauth2/"]
        for (variable, path) in Self.services { env["CLOUDSDK_API_ENDPOINT_OVERRIDES_\(variable)"] = bed.url + "/\(path)/" }
        if let storageURL { env["CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE"] = storageURL + "/" }
        environment = env
        let client = try bed.client(try await bed.credentials(env), environment: env, maxAttempts: 6)
        source = GCPClientSource(client: client)
        actions = Dictionary(uniqueKeysWithValues: GCPActions.all(source: source).map { ($0.name, $0) })
        // Quick operations, as in a test bed; real durations are minutes.
        try await bed.admin("POST", "config", ["durations": ["sql.promoteReplica": 1, "sql.switchover": 1, "sql.failover": 1, "sql.patch": 0.5,
                                                             "sql.backupRuns.insert": 0.5, "sql.clone": 1, "sql.delete": 0.3, "dns.change": 0.5,
                                                             "container.setSize": 0.5, "container.setAutoscaling": 0.5]])
    }

    func name(_ base: String) -> String { "\(base)-\(tag)" }

    func invocation(_ arguments: [String: RunValue], attempt: Int = 1, isResume: Bool = false, startedAt: Date = Date(),
                    stepId: String = "step", inDoubt: [String: RunValue] = [:],
                    record: @escaping @Sendable ([String: RunValue]) async throws -> Void = { _ in }) -> ActionInvocation {
        ActionInvocation(runId: "run-\(tag)", stepId: stepId, attempt: attempt, arguments: arguments, firstStartedAt: startedAt,
                         deadline: Date().addingTimeInterval(60), isResume: isResume,
                         services: ActionServices(clock: FastClock(), messages: { _ in }), recordIntentDetail: record, inDoubtDetail: inDoubt)
    }

    /// observe → (act → verify) as the executor runs a step; the outputs.
    @discardableResult
    func perform(_ name: String, _ invocation: ActionInvocation) async throws -> [String: RunValue] {
        let action = try #require(actions[name], "no action \(name)")
        if let observed = try await action.observe(invocation) { return observed }
        let acted = try await action.act(invocation)
        return try await action.verify(invocation, acted: acted)
    }

    func perform(_ name: String, _ arguments: [String: RunValue]) async throws -> [String: RunValue] {
        try await perform(name, invocation(arguments))
    }

    func seedInstance(_ spec: [String: Any]) async throws {
        try await bed.admin("POST", "sqladmin/instances", spec)
    }

    func instance(_ name: String) async throws -> [String: Any]? {
        let all = try await bed.admin("GET", "sqladmin/instances") as? [[String: Any]] ?? []
        return all.first { $0["name"] as? String == name }
    }
}

/// The suites that drive actions against the shared stand-in: one at a time, because one test's
/// faults (429/503 on a method) must not land on another's calls.
@Suite(.serialized) enum GCPStandInSuites {}
