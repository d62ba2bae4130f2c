import Foundation
import Testing

/// The GCP reference plan (Runbooks/drplan-gcp.yaml) under a prefix of each test's own, in the
/// test bed: its RDS primary in moto, its Cloud SQL replica, zone, node pool and transfer job in
/// the GCP stand-in (Tests/TestBed/gcp_topology.py). The stand-in's admin API (calls, violations,
/// faults, operation durations) is global to the bed: the suites using it are serialized and run
/// in one lane (scripts/test.sh, "cli-rest").
final class GCPFailoverBed: @unchecked Sendable {
    let prefix: String
    let home: TemporaryHome
    let gcpURL: String
    let keyFile: String
    let project: String
    private let testBed: [String: String]

    init(backupAge: Int? = nil, transferAge: Int? = nil) throws {
        let env = ProcessInfo.processInfo.environment
        guard let moto = env["DRCTL_TESTBED_MOTO_URL"], let key = env["DRCTL_TESTBED_ACCESS_KEY_ID"], let secret = env["DRCTL_TESTBED_SECRET_ACCESS_KEY"],
              let gcp = env["DRCTL_TESTBED_GCP_URL"], let keyFile = env["DRCTL_TESTBED_GCP_KEY_FILE"], let project = env["DRCTL_TESTBED_GCP_PROJECT"] else {
            Issue.record("the test bed (moto and the GCP stand-in) is not running: run scripts/test.sh")
            throw CancellationError()
        }
        prefix = "g\(UInt32.random(in: 0...UInt32.max) % 1_000_000)"
        home = try TemporaryHome()
        gcpURL = gcp
        self.keyFile = keyFile
        self.project = project
        testBed = ["DRCTL_TESTBED_MOTO_URL": moto, "DRCTL_TESTBED_ACCESS_KEY_ID": key, "DRCTL_TESTBED_SECRET_ACCESS_KEY": secret,
                   "DRCTL_TESTBED_GCP_URL": gcp, "DRCTL_TESTBED_GCP_PROJECT": project]
        for path in ["faults", "calls", "violations"] { try admin("DELETE", path) }
        var arguments = ["Tests/TestBed/gcp_topology.py", "seed", prefix]
        if let backupAge { arguments += ["--backup-age", "\(backupAge)"] }
        if let transferAge { arguments += ["--transfer-age", "\(transferAge)"] }
        let seeded = try DrctlProcess.python(arguments, environment: testBed)
        #expect(seeded.status == 0, "\(seeded.stderr)")
        try home.write("drplan.yaml", plan())
    }

    var planPath: String { home.url.appendingPathComponent("drplan.yaml").path }
    var statePath: String { home.url.appendingPathComponent("state.db").path }

    /// The reference plan with this test's names and the bed's project (and `drills` when given).
    func plan(drills: String? = nil) throws -> String {
        let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../Runbooks/drplan-gcp.yaml").standardized
        var text = try String(contentsOf: reference, encoding: .utf8)
        for (from, to) in [("name: reference-gcp", "name: \(prefix)"), ("orders-primary", "\(prefix)-primary"), ("orders-replica-usc1", "\(prefix)-replica-usc1"),
                           ("orders-replica", "\(prefix)-replica"), ("project: orders-dr-prod", "project: \(project)"),
                           ("zone: example-com", "zone: \(prefix)-zone"), ("example.com.", "\(prefix).example.com."),
                           ("cluster: orders-dr", "cluster: \(prefix)-dr"), ("transferJobs/orders-docs-to-gcs", "transferJobs/\(prefix)-docs")] {
            #expect(text.contains(from), "the reference plan no longer has \(from)")
            text = text.replacingOccurrences(of: from, with: to)
        }
        if let drills { text = text.replacingOccurrences(of: "drills: { schedule: \"0 6 1 1,4,7,10 *\" }", with: "drills:\n\(drills)") }
        return text
    }

    /// drctl's environment: AWS straight to moto, Google's APIs and token endpoint at the stand-in.
    func environment(_ more: [String: String] = [:]) -> [String: String] {
        var env = ["AWS_ACCESS_KEY_ID": testBed["DRCTL_TESTBED_ACCESS_KEY_ID"]!, "AWS_SECRET_ACCESS_KEY": testBed["DRCTL_TESTBED_SECRET_ACCESS_KEY"]!,
                   "AWS_ENDPOINT_URL": testBed["DRCTL_TESTBED_MOTO_URL"]!, "AWS_REGION": "us-east-1",
                   "GOOGLE_APPLICATION_CREDENTIALS": keyFile, "NO_GCE_CHECK": "true"]
        for service in ["sqladmin", "dns", "container", "monitoring", "storagetransfer", "storage", "iamcredentials", "oauth2", "sts"] {
            env["CLOUDSDK_API_ENDPOINT_OVERRIDES_\(service.uppercased())"] = "\(gcpURL)/\(service)/"
        }
        return env.merging(more) { $1 }
    }

    func drctl(_ arguments: [String], _ more: [String: String] = [:]) throws -> DrctlProcess.Result {
        try DrctlProcess.run(arguments, environment: environment(more), home: home.url)
    }

    func failover(_ more: [String: String] = [:], plan: String? = nil) throws -> DrctlProcess.Result {
        try drctl(["failover", "--plan", plan ?? planPath, "--to", "gcp:us-central1", "--state", statePath, "--yes"], more)
    }

    func start(_ arguments: [String]) throws -> DrctlChild {
        try DrctlChild(arguments, home: home.url, environment: environment())
    }

    /// What the clouds say now (not drctl): the RDS primary's security groups, the replica, the
    /// record, the pool's nodes, drill clones left over.
    struct State: Decodable {
        let rds_security_groups: [String]
        let replica_type: String?
        let replica_state: String?
        let record: [String]?
        let pool_nodes: Int?
        let clones: [String]
    }

    func inspect() throws -> State {
        let result = try DrctlProcess.python(["Tests/TestBed/gcp_topology.py", "inspect", prefix], environment: testBed)
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode(State.self, from: Data(result.stdout.utf8))
    }

    /// The stand-in's admin API (`/_gcp/PATH`), answered as JSON.
    @discardableResult
    func admin(_ method: String, _ path: String, _ body: Any? = nil) throws -> Any? {
        // curl: Foundation's URLSession is not in every toolchain's corelibs without FoundationNetworking.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        var arguments = ["-sS", "--max-time", "30", "-X", method, "\(gcpURL)/_gcp/\(path)"]
        if let body {
            arguments += ["-H", "Content-Type: application/json", "--data-binary",
                          String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)]
        }
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileReadUnknown) }
        return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }

    func calls(_ method: String) throws -> Int { (try admin("GET", "calls") as? [String: Any])?[method] as? Int ?? 0 }
    func violations() throws -> [Any] { try admin("GET", "violations") as? [Any] ?? [] }

    /// Every secret of the bed's key file (the private key's base64 lines) and any token shape.
    func expectNoSecret(_ texts: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        let key = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: keyFile))) as? [String: Any])?["private_key"] as? String ?? ""
        let lines = key.split(separator: "\n").filter { !$0.hasPrefix("-----") }
        for text in texts {
            #expect(!lines.contains { text.contains($0) }, "the private key was printed", sourceLocation: sourceLocation)
            #expect(!text.contains("ya29.") && !text.contains("eyJ"), "a token or an assertion was printed", sourceLocation: sourceLocation)
        }
    }
}
