import AWSProvider
import DRCore
import Foundation

// drctl-bench: SigV4 signatures per second and signed round trips per second against the test
// bed at concurrency 1 and 64, with botocore doing the same work in the same run as the baseline.
//   swift run -c release drctl-bench [--iterations N] [--round-trips N]
// Round trips need the test bed's environment (DRCTL_TESTBED_*), e.g. via scripts/bench.sh.

let arguments = CommandLine.arguments
func option(_ name: String, default value: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let parsed = Int(arguments[index + 1]) else { return value }
    return parsed
}
let iterations = option("--iterations", default: 200_000)
let roundTrips = option("--round-trips", default: 400)
let python = ProcessInfo.processInfo.environment["PYTHON"] ?? "python3"
let baselineScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("botocore_baseline.py").path

func botocore(_ args: [String]) throws -> [String: Any] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python, baselineScript] + args
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw BenchError(message: "botocore baseline failed (\(args.joined(separator: " ")))")
    }
    return object
}

struct BenchError: Error, CustomStringConvertible { let message: String; var description: String { message } }

func formatted(_ value: Double) -> String {
    let formatter = NumberFormatter()
    formatter.numberStyle = .decimal
    formatter.maximumFractionDigits = 0
    return formatter.string(from: NSNumber(value: value)) ?? String(Int(value))
}

// The same request botocore signs: RDS DescribeDBInstances, form body, us-west-2.
let credentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
let body = Array("Action=DescribeDBInstances&Version=2014-10-31&DBInstanceIdentifier=orders-primary".utf8)
let headers: HTTPHeaders = ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"]
let url = "https://rds.us-west-2.amazonaws.com/"

// Cross-check first: both must produce the same Authorization header for the same instant.
let fixedDate = ISO8601DateFormatter().date(from: "2026-11-26T12:00:00Z")!
let ours = SigV4Signer(credentials: credentials, region: "us-west-2", service: "rds")
    .sign(method: "POST", url: url, headers: headers, payload: .bytes(body), date: fixedDate).headers["authorization"]!
let theirs = (try botocore(["signature"]))["authorization"] as? String ?? ""
print("SigV4 cross-check with botocore: \(ours == theirs ? "identical signatures" : "MISMATCH\n  drctl:    \(ours)\n  botocore: \(theirs)")")

// Signing throughput: a new signature per request (canonical request, string to sign, HMAC),
// with the per-day signing key reused as an SDK client does. Rounds alternate drctl and
// botocore, and the ratio is the median of the per-round ratios: this machine's speed drifts by
// tens of percent over seconds, and alternating puts both sides under the same drift.
let signer = SigV4Signer(credentials: credentials, region: "us-west-2", service: "rds")
let now = Date()
let rounds = 5
let perRound = max(1, iterations / rounds)
/// Returns signatures per second; the checksum keeps the work from being optimised away.
func drctlRound(_ checksum: inout Int) -> Double {
    let start = ContinuousClock.now
    for index in 0..<perRound {
        let signature = signer.sign(method: "POST", url: url, headers: headers, payload: .bytes(body),
                                    date: now.addingTimeInterval(Double(index % 60)))
        checksum &+= signature.signature.utf8.count
    }
    let elapsed = ContinuousClock.now - start
    return Double(perRound) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}
var checksum = 0
_ = drctlRound(&checksum)   // warm-up
var drctlRates: [Double] = [], botoRates: [Double] = [], ratios: [Double] = []
var botocoreVersion = "?"
for _ in 0..<rounds {
    let ours = drctlRound(&checksum)
    let boto = try botocore(["sign", String(max(1000, perRound / 20)), "1"])   // its own warm-up + 1 timed round
    let theirs = boto["signatures_per_second"] as? Double ?? 0
    botocoreVersion = boto["botocore"] as? String ?? botocoreVersion
    drctlRates.append(ours)
    botoRates.append(theirs)
    ratios.append(ours / max(theirs, 1))
}
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
print("""

SigV4 signing, 1 thread, \(rounds) alternating rounds (POST rds DescribeDBInstances, new signature each time; checksum \(checksum % 97))
  drctl      \(formatted(median(drctlRates)).leftPadded(12)) signatures/s (median; rounds \(drctlRates.map { formatted($0) }.joined(separator: ", ")))
  botocore   \(formatted(median(botoRates)).leftPadded(12)) signatures/s (median; baseline: botocore \(botocoreVersion))
  ratio      \(String(format: "%.1f", median(ratios)))× median of per-round ratios (\(ratios.map { String(format: "%.1f", $0) }.joined(separator: ", ")))   goal ≥ 20×
""")

// Signed round trips against the test bed (moto with SigV4 verification on).
let environment = ProcessInfo.processInfo.environment
if let moto = environment["DRCTL_TESTBED_MOTO_URL"], let key = environment["DRCTL_TESTBED_ACCESS_KEY_ID"],
   let secret = environment["DRCTL_TESTBED_SECRET_ACCESS_KEY"] {
    let transport = CurlTransport(configuration: .init(proxy: ProxySettings()))
    let client = AWSClient(transport: transport,
                           credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: key, secretAccessKey: secret)),
                           endpoints: StaticEndpointResolver(overrideURL: moto), retry: RetryStrategy(maxAttempts: 1))
    let sts = STSClient(client: client)
    _ = try await sts.getCallerIdentity(region: "us-east-1")
    print("\nSigned round trips (STS GetCallerIdentity against moto with SigV4 verification; moto's Python server bounds both)")
    for concurrency in [1, 64] {
        let begin = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            let perWorker = roundTrips / concurrency
            for _ in 0..<concurrency {
                group.addTask { for _ in 0..<perWorker { _ = try await sts.getCallerIdentity(region: "us-east-1") } }
            }
            try await group.waitForAll()
        }
        let took = ContinuousClock.now - begin
        let done = Double((roundTrips / concurrency) * concurrency)
        let rate = done / (Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)
        let baseline = try botocore(["roundtrips", String(roundTrips), String(concurrency)])
        let baselineRate = baseline["round_trips_per_second"] as? Double ?? 0
        print("  concurrency \(String(concurrency).leftPadded(2)):  drctl \(formatted(rate).leftPadded(7))/s   botocore \(formatted(baselineRate).leftPadded(7))/s")
    }
} else {
    print("\nSigned round trips: skipped (no test bed; run scripts/bench.sh to start one)")
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
