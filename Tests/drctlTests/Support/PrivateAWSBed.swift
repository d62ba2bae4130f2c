import Foundation
import Testing

/// A moto (motobed.py) and a fault proxy of the sweep's own: its RDS, S3 and Route 53 timings are
/// short (so that a failover takes seconds, its waiters still polling), and its proxy counts only
/// this sweep's calls. Started from the test bed's scripts with the test bed's Python; stopped by
/// the PIDs it started when released.
final class PrivateAWSBed: @unchecked Sendable {
    let directory: URL
    let motoURL: String
    let proxyURL: String
    let accessKeyId: String
    let secretAccessKey: String
    private var processes: [Process] = []
    private var seeder: FileHandle?

    static let fastTimings = #"{"rds":{"creating":0,"stopping":0.2,"promote":0.3,"modifying":0.2},"s3":{"replication_delay":0.2},"route53":{"insync":0.2}}"#

    init() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-awsbed-\(UUID().uuidString)")
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var started: [Process] = []
        func launch(_ arguments: [String], log: String) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3"] + arguments
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle(forWritingAtPath: Self.touch(directory.appendingPathComponent(log).path))
            process.standardError = process.standardOutput
            try process.run()
            started.append(process)
            return process
        }
        func port(_ file: String, of process: Process) throws -> Int {
            let path = directory.appendingPathComponent(file).path
            let deadline = Date().addingTimeInterval(90)
            while Date() < deadline && process.isRunning {
                if let text = try? String(contentsOfFile: path, encoding: .utf8), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                    return port
                }
                usleep(100_000)
            }
            for process in started { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
            Issue.record("the sweep's private \(file) did not start: \((try? String(contentsOfFile: directory.appendingPathComponent("bed.log").path, encoding: .utf8)) ?? "")")
            throw CancellationError()
        }
        let moto = try launch(["Tests/TestBed/motobed.py", "--port", "0", "--port-file", directory.appendingPathComponent("moto.port").path,
                               "--creds-file", directory.appendingPathComponent("creds.json").path, "--ttl", "1800",
                               "--config", Self.fastTimings], log: "bed.log")
        let motoURL = "http://127.0.0.1:\(try port("moto.port", of: moto))"
        self.motoURL = motoURL
        let credentials = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("creds.json"))) as? [String: Any]
        accessKeyId = credentials?["access_key_id"] as? String ?? ""
        secretAccessKey = credentials?["secret_access_key"] as? String ?? ""
        let proxy = try launch(["Tests/TestBed/faultproxy.py", "--upstream", motoURL, "--port", "0",
                                "--port-file", directory.appendingPathComponent("proxy.port").path, "--ttl", "1800"], log: "proxy.log")
        proxyURL = "http://127.0.0.1:\(try port("proxy.port", of: proxy))"
        processes = started
    }

    deinit {
        // SIGKILL: children of the test runner inherit its blocked signal mask, SIGTERM included,
        // so a polite stop would wait forever. Nothing of theirs needs a clean shutdown.
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private static func touch(_ path: String) -> String {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return path
    }

    /// What drctl gets: the proxy as every endpoint, this bed's keys.
    var drctlEnvironment: [String: String] {
        ["AWS_ACCESS_KEY_ID": accessKeyId, "AWS_SECRET_ACCESS_KEY": secretAccessKey, "AWS_ENDPOINT_URL": proxyURL, "AWS_REGION": "us-east-1"]
    }

    /// What the test bed's Python helpers read.
    var testBedEnvironment: [String: String] {
        ["DRCTL_TESTBED_MOTO_URL": motoURL, "DRCTL_TESTBED_ACCESS_KEY_ID": accessKeyId, "DRCTL_TESTBED_SECRET_ACCESS_KEY": secretAccessKey]
    }

    /// Creates the reference topology under each prefix asked for, in order, in one Python process
    /// (boto3 imported once) that reads prefixes on its stdin; `waitUntilSeeded(prefix)` returns
    /// once a prefix is ready. Asking a few points ahead keeps seeding off the sweep's path.
    func seed(_ prefixes: [String]) throws {
        if seeder == nil {
            let script = """
                import sys, os
                sys.path.insert(0, 'Tests/TestBed')
                import reference_topology as topology
                for line in sys.stdin:
                    prefix = line.strip()
                    topology.databases(prefix, [''], 12.0)
                    topology.buckets(prefix)
                    topology.secret(prefix)
                    topology.dns(prefix + '.example.com.')
                    topology.eks(prefix)
                    open(os.path.join('\(directory.path)', 'seeded-' + prefix), 'w').close()
                """
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", script]
            process.environment = ProcessInfo.processInfo.environment.merging(testBedEnvironment) { $1 }
            let input = Pipe()
            process.standardInput = input
            process.standardOutput = FileHandle(forWritingAtPath: Self.touch(directory.appendingPathComponent("seed.log").path))
            process.standardError = process.standardOutput
            try process.run()
            processes.append(process)
            seeder = input.fileHandleForWriting
        }
        seeder?.write(Data(prefixes.map { $0 + "\n" }.joined().utf8))
    }

    func waitUntilSeeded(_ prefix: String) -> Bool {
        let marker = directory.appendingPathComponent("seeded-\(prefix)").path
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: marker) { return true }
            usleep(50_000)
        }
        Issue.record("topology \(prefix) was not seeded in time: \((try? String(contentsOfFile: directory.appendingPathComponent("seed.log").path, encoding: .utf8)) ?? "")")
        return false
    }

    /// Clears the proxy's counters (between points).
    func resetCounts() throws { _ = try curl(["-X", "DELETE", proxyURL + "/_faults"]) }

    /// Calls the proxy forwarded since the last reset, as "service:Operation" → count.
    func counts() throws -> [String: Int] {
        let data = try curl([proxyURL + "/_faults/counts"])
        let requests = ((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["requests"] as? [String: [String: Int]]) ?? [:]
        return requests.reduce(into: [:]) { counts, service in
            for (operation, count) in service.value { counts["\(service.key):\(operation)"] = count }
        }
    }

    private func curl(_ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sf"] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data
    }
}
