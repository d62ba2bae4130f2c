import DRCore
import Foundation
@testable import GCPProvider
import Testing

/// The `gcp:` plan section: a good one decoded to values, every bad one refused where it is
/// written (line and column, what was found and what was expected), and the moves it has work for.
@Suite("GCP plan section")
struct GCPPlanSectionTests {
    static let good = """
    name: gcp
    sites: { primary: us-east-1, dr: [gcp:us-central1] }
    budgets: { rpo: 1h, rto: 4h }
    gcp:
      project: orders-dr-prod
      quota_project: orders-billing
      databases:
        - name: orders
          primary: { site: us-east-1, external: true, follows: aws:orders }
          replicas: [ { site: gcp:us-central1, instance: orders-replica } ]
      dns:
        - { zone: example-com, name: app.example.com., type: CNAME, values: { us-east-1: [a.example.com.], gcp:us-central1: [b.example.com.] } }
      standby:
        gcp:us-central1: { node_pools: [ { location: us-central1-a, cluster: dr, pool: workers, node_count: 3, min: 2, max: 20 } ] }
      transfers: [ { job: transferJobs/123, site: gcp:us-central1 } ]
      buckets: [ { bucket: docs-dr, site: gcp:us-central1, require_turbo: true } ]
    """

    static func problems(_ text: String) -> [RunbookProblem] {
        do {
            _ = try DRPlanLoader.parse(bytes: Array(text.utf8), path: "plan.yaml", sections: PlanSections.all)
            return []
        } catch {
            return error.problems
        }
    }

    @Test func aGoodSectionDecodes() throws {
        let plan = try DRPlanLoader.parse(bytes: Array(Self.good.utf8), path: "plan.yaml", sections: PlanSections.all)
        let gcp = plan.gcp
        #expect(gcp.project == "orders-dr-prod" && gcp.quotaProject == "orders-billing")
        #expect(gcp.databases.count == 1)
        #expect(gcp.databases[0].primary == .external(site: "us-east-1", follows: .init(section: "aws", database: "orders")))
        #expect(gcp.databases[0].replicas == [.init(site: "gcp:us-central1", instance: "orders-replica")])
        #expect(gcp.databases[0].fence == "stop")
        #expect(gcp.records[0].values == ["us-east-1": ["a.example.com."], "gcp:us-central1": ["b.example.com."]] && gcp.records[0].ttl == 60)
        #expect(gcp.standby["gcp:us-central1"] == [.init(location: "us-central1-a", cluster: "dr", pool: "workers", nodeCount: 3, min: 2, max: 20)])
        #expect(gcp.transfers == [.init(job: "transferJobs/123", site: "gcp:us-central1")])
        #expect(gcp.buckets == [.init(bucket: "docs-dr", site: "gcp:us-central1", requireTurbo: true)])
        #expect(gcp.hasWork(from: "us-east-1", to: "gcp:us-central1"))
        #expect(plan.sites.contains("gcp:us-central1"))
    }

    @Test func workIsOnlyForAMoveWithSomethingToDo() throws {
        var section = GCPPlanSection()
        section.databases = [.init(name: "o", primary: .cloudSQL(.init(site: "gcp:us-east4", instance: "p")),
                                   replicas: [.init(site: "gcp:us-central1", instance: "r")], fence: "stop")]
        #expect(section.hasWork(from: "gcp:us-east4", to: "gcp:us-central1"))
        #expect(!section.hasWork(from: "gcp:us-central1", to: "gcp:us-east4"))
        section.standby["gcp:us-east4"] = [.init(location: "us-east4", cluster: "c", pool: "p", nodeCount: 1)]
        #expect(section.hasWork(from: "gcp:us-central1", to: "gcp:us-east4"))
    }

    /// (text replaced in the good plan, its replacement, where in the result the problem must point, part of the message).
    @Test(arguments: [
        ("instance: orders-replica } ]", "instance: orders-replica }, { site: us-east-1, instance: x } ]", "us-east-1, instance: x", "expected a region of gcp such as us-central1"),
        ("{ site: gcp:us-central1, instance: orders-replica }", "{ site: gcp:europe-west4, instance: orders-replica }", "gcp:europe-west4", "found the site gcp:europe-west4, expected one of the plan's sites"),
        ("project: orders-dr-prod", "project: Orders_DR", "Orders_DR", "expected a Google Cloud project id"),
        ("external: true, follows: aws:orders }", "external: true }", "{ site: us-east-1, external", "expected follows: SECTION:DATABASE"),
        ("follows: aws:orders", "follows: azure:orders", "azure:orders", "expected SECTION:DATABASE with SECTION one of aws"),
        ("site: us-east-1, external", "site: gcp:us-central1, external", "gcp:us-central1, external", "expected a site outside Google Cloud"),
        ("replicas: [ { site: gcp:us-central1, instance: orders-replica } ]", "replicas: [ { site: gcp:us-central1, instance: orders-replica } ]\n      fence: halt",
         "halt", "found fence 'halt', expected stop or none"),
        ("instance: orders-replica }", "instance: Orders_Replica }", "Orders_Replica", "expected a Cloud SQL instance name"),
        ("gcp:us-central1: [b.example.com.]", "gcp:us-west1: [b.example.com.]", "gcp:us-west1", "found the site gcp:us-west1"),
        ("node_count: 3, min: 2, max: 20", "node_count: 3, min: 2", "min: 2", "found only one of min and max"),
        ("node_count: 3, min: 2, max: 20", "node_count: 30, min: 2, max: 20", "30, min", "found node_count 30, expected it within min 2 and max 20"),
        ("gcp:us-central1: { node_pools", "us-east-1: { node_pools", "us-east-1: { node_pools", "expected a region of gcp"),
        ("job: transferJobs/123", "job: 123", "123, site", "expected a transfer job's name such as transferJobs/"),
        ("bucket: docs-dr, site: gcp:us-central1", "bucket: docs-dr, site: us-east-1", "us-east-1, require_turbo", "expected a region of gcp"),
    ])
    func aBadSectionIsRefusedWhereItIsWritten(_ original: String, _ replacement: String, _ marker: String, _ message: String) throws {
        #expect(Self.good.contains(original))
        let text = Self.good.replacingOccurrences(of: original, with: replacement)
        let lines = text.components(separatedBy: "\n")
        let row = try #require(lines.firstIndex { $0.contains(marker) })
        let column = lines[row].distance(from: lines[row].startIndex, to: lines[row].range(of: marker)!.lowerBound) + 1
        let problems = Self.problems(text)
        let located = problems.filter { $0.message.contains(message) }
        #expect(located.count == 1, "\(problems)")
        #expect(located.first?.location.line == row + 1 && located.first?.location.column == column,
                "expected at \(row + 1):\(column), found \(located.first?.location.description ?? "none")")
        #expect(located.first?.location.file == "plan.yaml")
    }
}
