import DRCore
import Foundation
import Testing

@Suite("DR plans: every field and nested key is checked, every problem located")
struct PlanValidationTests {
    static let head = "name: demo\nregions: { primary: us-east-1, dr: us-west-2 }\n"
    static let database = "    - { name: db, primary: { region: us-east-1, instance: p }, replicas: [ { region: us-west-2, instance: r } ] }\n"

    static func problems(_ text: String) -> [RunbookProblem] {
        do {
            _ = try DRPlanLoader.parse(bytes: Array(text.utf8), path: "plan.yaml", sections: PlanSections.all)
            return []
        } catch {
            return error.problems
        }
    }

    /// The one problem where `marker` first occurs in `text`, whose message must contain `message`.
    static func expectProblem(_ text: String, at marker: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = text.components(separatedBy: "\n")
        guard let line = lines.firstIndex(where: { $0.contains(marker) }), let range = lines[line].range(of: marker) else {
            Issue.record("no \(marker) in the text", sourceLocation: sourceLocation)
            return
        }
        expectProblem(text, line + 1, lines[line][..<range.lowerBound].unicodeScalars.count + 1, message, sourceLocation: sourceLocation)
    }

    /// The one problem at `line`:`column`, whose message must contain `message`.
    static func expectProblem(_ text: String, _ line: Int, _ column: Int, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let found = problems(text)
        let located = found.filter { $0.location.line == line && $0.location.column == column }
        #expect(located.count == 1, "expected a problem at \(line):\(column), got \(found)", sourceLocation: sourceLocation)
        #expect(located.first?.message.contains(message) == true, "\(found)", sourceLocation: sourceLocation)
    }

    @Test func theReferencePlanLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let plan = try DRPlanLoader.load(path: root.appendingPathComponent("Runbooks/drplan.yaml").path, sections: PlanSections.all)
        #expect(plan.name == "reference")
        #expect(plan.description == "orders platform, warm standby in us-west-2")
        #expect(plan.aws.records.first?.values.keys.sorted() == ["us-east-1", "us-west-2"])
    }

    @Test func descriptionMustBeText() {
        Self.expectProblem("name: demo\ndescription: [a, b]\nregions: { primary: us-east-1, dr: us-west-2 }\n", 2, 14,
                           "found a list, expected a string for description")
    }

    @Test(arguments: ["us-east", "mars-1", "US-EAST-1", "us-east-1a", "useast1", "us_east_1", "us-east-1-", "u-east-1", "us-east-01x"])
    func regionThatIsNoAWSRegionIsRefused(_ region: String) {
        Self.expectProblem("name: demo\nregions: { primary: \(region), dr: us-west-2 }\n", 2, 21, "found '\(region)', expected an AWS region")
    }

    @Test(arguments: ["us-east-1", "eu-central-2", "us-gov-west-1", "us-iso-east-1", "us-isob-east-1", "ap-southeast-4", "cn-north-1"])
    func realRegionShapesAreAccepted(_ region: String) {
        #expect(Self.problems("name: demo\nregions: { primary: \(region), dr: xx-test-9 }\naws:\n  databases:\n"
                              + "    - { name: db, primary: { region: \(region), instance: p }, replicas: [ { region: xx-test-9, instance: r } ] }\n") == [])
    }

    @Test func dnsValuesNameOnlyThePlansRegions() {
        let text = Self.head + "aws:\n  dns:\n    - { zone_id: Z1, name: a.example.com., values: { us-east-1: [a], us-wset-2: [b] } }\n  databases:\n" + Self.database
        Self.expectProblem(text, at: "us-wset-2", "found unknown key 'us-wset-2' in values, expected one of the plan's regions us-east-1, us-west-2 (did you mean 'us-west-2'?)")
    }

    @Test func standbyAndRunbooksAreKeyedByThePlansRegions() {
        let text = Self.head + "aws:\n  databases:\n" + Self.database + "  standby:\n    us-west-3: { ecs_services: [] }\n"
            + "runbooks: { failover: { eu-west-2: f.yaml } }\n"
        Self.expectProblem(text, at: "us-west-3", "found unknown key 'us-west-3' in aws.standby, expected one of the plan's regions us-east-1, us-west-2 (did you mean 'us-west-2'")
        Self.expectProblem(text, at: "eu-west-2", "found unknown key 'eu-west-2' in runbooks.failover")
    }

    @Test func drillCheckArgumentsAreTheActionsOwn() {
        let text = Self.head + "drills:\n  validation: { url_env: COPY }\n  checks:\n"
            + "    - { name: fresh, action: postgres.check-freshness, with: { table: t, colum: c, max_age: 1h } }\n"
            + "aws:\n  databases:\n" + Self.database
        Self.expectProblem(text, at: "colum:", "found unknown argument 'colum' for action postgres.check-freshness")
        #expect(Self.problems(text).contains { $0.message.contains("(did you mean 'column'?)") }, "\(Self.problems(text))")
        #expect(Self.problems(text).contains { $0.message.contains("found no 'column' in with, expected the required argument 'column'") })
    }

    @Test func drillCheckDurationsAreChecked() {
        let text = Self.head + "drills:\n  validation: { url_env: COPY }\n  checks:\n"
            + "    - { name: fresh, action: postgres.check-freshness, with: { table: t, column: c, max_age: soon } }\n"
            + "aws:\n  databases:\n" + Self.database
        Self.expectProblem(text, at: "soon", "expected a duration")
    }

    /// (`gcp:` is read since the GCP provider has a plan section: GCPPlanSectionTests.)
    @Test(arguments: ["azure", "state"])
    func sectionsThisBuildCannotActOnAreRefused(_ section: String) {
        Self.expectProblem(Self.head + "\(section): { anything: 1 }\naws:\n  databases:\n" + Self.database, 3, 1, "found the section '\(section)'")
    }

    @Test func aPlanWithNothingToMoveIsLocatedAtItsAWSSection() throws {
        let text = Self.head + "aws:\n  buckets: []\n"
        let plan = try DRPlanLoader.parse(bytes: Array(text.utf8), path: "plan.yaml", sections: PlanSections.all)
        let error = try #require(plan.nothingToMove(from: "us-east-1", to: "us-west-2"))
        #expect(error.problems.map(\.location) == [FileLocation(file: "plan.yaml", line: 3, column: 1)])
        #expect(error.description.contains("plan.yaml:3:1: found a plan that protects nothing that can move from us-east-1 to us-west-2"))
    }

    @Test func aPlanWithoutAWSSectionIsLocatedAtItsTop() throws {
        let plan = try DRPlanLoader.parse(bytes: Array((Self.head + "drills: { schedule: \"0 6 * * *\" }\n").utf8), path: "plan.yaml", sections: PlanSections.all)
        let error = try #require(plan.nothingToMove(from: "us-east-1", to: "us-west-2"))
        #expect(error.problems.map(\.location) == [FileLocation(file: "plan.yaml", line: 1, column: 1)])
    }

    @Test func aPlanThatProtectsSomethingHasSomethingToMove() throws {
        let plan = try DRPlanLoader.parse(bytes: Array((Self.head + "aws:\n  databases:\n" + Self.database).utf8), path: "plan.yaml", sections: PlanSections.all)
        #expect(plan.nothingToMove(from: "us-east-1", to: "us-west-2") == nil)
        #expect(plan.nothingToMove(from: "us-west-2", to: "us-east-1") != nil)
    }

    @Test func aByteOrderMarkIsAcceptedAndLinesStayRight() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let plan = try DRPlanLoader.parse(bytes: bom + Array((Self.head + "aws:\n  databases:\n" + Self.database).utf8), path: "plan.yaml", sections: PlanSections.all)
        #expect(plan.name == "demo")
        let runbook = try RunbookLoader.parse(bytes: bom + Array("name: demo\nsteps:\n  - { id: a, action: wait, with: { duration: 1s } }\n".utf8),
                                              path: "rb.yaml")
        #expect(runbook.steps.first?.location == FileLocation(file: "rb.yaml", line: 3, column: 5))
        do {
            _ = try RunbookLoader.parse(bytes: bom + Array("name: demo\nsteps:\n  - { id: a, action: wiat }\n".utf8), path: "rb.yaml")
            Issue.record("a misspelt action was accepted")
        } catch {
            #expect(error.problems.first?.location == FileLocation(file: "rb.yaml", line: 3, column: 22))
        }
    }
}
