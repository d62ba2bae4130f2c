import AWSProvider
import DRCore
import Foundation
import PostgresProvider

// `swift run -c release drctl-plan-bench N` (scripts/bench-plan.sh runs it per size, one process
// each so that the peak memory is the size's own): a DR plan of N RDS databases (each with a
// cross-region replica), N/10 bucket pairs and N/10 DNS records, with standby capacity; reads and
// validates it from a file, generates the failover runbook as a value, renders it as `--print-runbook`
// and `drctl failover` (which pins the text) would, and prints the time of each part and the peak
// resident memory of the process.

func planText(databases: Int) -> String {
    var text = """
    name: bench
    sites: { primary: us-east-1, dr: [us-west-2] }
    budgets: { rpo: 1h, rto: 4h }
    aws:
      databases:

    """
    for index in 0..<databases {
        text += """
              - name: db-\(index)
                primary: { region: us-east-1, instance: db-\(index)-primary }
                replicas: [ { region: us-west-2, instance: db-\(index)-replica } ]
                fence: security-group
                fence_security_groups: [ sg-0isolate ]
                backup_retention_days: 30

        """
    }
    text += "  buckets:\n"
    for index in 0..<max(1, databases / 10) {
        text += "    - { source: docs-\(index), source_region: us-east-1, destination: docs-\(index)-dr, destination_region: us-west-2 }\n"
    }
    text += "  dns:\n"
    for index in 0..<max(1, databases / 10) {
        text += "    - { zone_id: Z\(index), name: app-\(index).example.com., values: { us-east-1: [a-\(index).example.com.], us-west-2: [b-\(index).example.com.] } }\n"
    }
    text += "  standby:\n    us-west-2:\n      eks_nodegroups: [ { cluster: dr, nodegroup: workers, min: 2, max: 20, desired: 6 } ]\n"
    return text
}

func peakResidentMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024   // kilobytes on Linux
}

func seconds(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

struct NoTransport: HTTPTransport {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse { throw CancellationError() }
}

let databases = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 1000
let path = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-plan-bench-\(databases)-\(getpid()).yaml").path
try planText(databases: databases).write(toFile: path, atomically: true, encoding: .utf8)
defer { try? FileManager.default.removeItem(atPath: path) }
let fileBytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
let baseline = peakResidentMegabytes()

let sections: [any PlanSectionKind] = [AWSPlanSectionKind(), PostgresPlanSectionKind()]
let providers: [any DRProvider] = [
    AWSCloudProvider(client: AWSClient(transport: NoTransport(), credentials: StaticCredentialProvider(nil), endpoints: StaticEndpointResolver())),
    PostgresProvider(),
]
var registry = ActionRegistry.builtIns
for provider in providers { provider.actions().forEach { registry.register($0) } }

let total = ContinuousClock.now
var start = ContinuousClock.now
let plan = try DRPlanLoader.load(path: path, sections: sections)
let loadSeconds = seconds(start)
let afterLoad = peakResidentMegabytes()
start = ContinuousClock.now
let runbook = try MoveComposer(providers: providers).runbook(plan: plan, move: Move(kind: .failover, from: "us-east-1", to: "us-west-2"),
                                                             catalog: registry.catalog)
let composeSeconds = seconds(start)
start = ContinuousClock.now
let (text, _) = RunbookRenderer.pinned(runbook, path: runbook.source.path)
let renderSeconds = seconds(start)
let totalSeconds = seconds(total)
let peak = peakResidentMegabytes()
print(String(format: "databases %6d  plan %7.1f KiB  steps %6d  load+validate %.3f s  compose %.3f s  render+digest %.3f s (%.1f KiB)  total %.3f s  peak RSS %.1f MB (%.1f MB before the plan, %.1f MB after loading it)",
             databases, Double(fileBytes) / 1024, runbook.steps.count, loadSeconds, composeSeconds, renderSeconds, Double(text.utf8.count) / 1024,
             totalSeconds, peak, baseline, afterLoad))
