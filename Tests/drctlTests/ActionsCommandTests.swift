import Foundation
import Testing

/// `drctl actions`: the catalogue comes from the actions' declarations of the registry drctl runs
/// with, every action declares what it does and (AWS) what it needs, the AWS permissions name real
/// operations of botocore's models, and docs/actions.md is what the binary prints.
@Suite struct ActionsCommandTests {
    struct Catalogue: Decodable {
        struct Permission: Decodable { let kind: String; let name: String; let operation: String? }
        struct Parameter: Decodable { let name: String; let type: String; let required: Bool }
        struct Action: Decodable {
            let name: String
            let mutating: Bool
            let summary: String
            let parameters: [Parameter]
            let permissions: [Permission]
        }
        let actions: [Action]
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func catalogue() throws -> (Catalogue, String) {
        let result = try DrctlProcess.run(["actions", "--output", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        return (try JSONDecoder().decode(Catalogue.self, from: Data(result.stdout.utf8)), result.stdout)
    }

    @Test func everyRegisteredActionDeclaresWhatItDoesAndAWSActionsWhatTheyNeed() throws {
        let (catalogue, _) = try Self.catalogue()
        let names = Set(catalogue.actions.map(\.name))
        // The registry drctl runs with: built-ins, AWS, Google Cloud and PostgreSQL actions.
        for expected in ["wait", "approve", "exec", "aws.rds.promote-read-replica", "aws.route53.upsert-record", "postgres.promote",
                         "gcp.sql.promote-replica", "gcp.dns.set-record"] {
            #expect(names.contains(expected), "\(expected) missing from drctl actions")
        }
        for action in catalogue.actions {
            #expect(!action.summary.trimmingCharacters(in: .whitespaces).isEmpty, "\(action.name) declares no summary")
            if action.name.hasPrefix("aws.") {
                #expect(action.permissions.contains { $0.kind == "aws" }, "\(action.name) declares no AWS permission")
            }
            if action.name.hasPrefix("gcp.") {
                #expect(action.permissions.contains { $0.kind == "gcp" }, "\(action.name) declares no Google Cloud permission")
            }
            if action.name.hasPrefix("postgres.") {
                #expect(!action.permissions.isEmpty, "\(action.name) declares no PostgreSQL privilege")
            }
        }
        let promote = try #require(catalogue.actions.first { $0.name == "aws.rds.promote-read-replica" })
        #expect(promote.mutating)
        #expect(promote.permissions.map(\.name).contains("rds:PromoteReadReplica"))
        #expect(promote.parameters.contains { $0.name == "instances" && $0.required && $0.type == "list" })
    }

    @Test func everyAWSPermissionIsAnOperationOfBotocoresServiceModel() throws {
        let (_, json) = try Self.catalogue()
        let script = Self.root.appendingPathComponent("Tests/TestBed/check_permissions.py").path
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-actions-\(UUID().uuidString).json")
        try Data(json.utf8).write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let result = try DrctlProcess.python([script, input.path], environment: [:])
        #expect(result.status == 0, "unknown operations:\n\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains(" 0 unknown"), "\(result.stdout)")
    }

    @Test func committedActionsReferenceIsWhatTheBinaryPrints() throws {
        let result = try DrctlProcess.run(["actions", "--output", "markdown"])
        #expect(result.status == 0, "\(result.stderr)")
        let committed = try String(contentsOf: Self.root.appendingPathComponent("docs/actions.md"), encoding: .utf8)
        #expect(committed == result.stdout, "docs/actions.md is stale: run scripts/gen-docs.sh and commit docs/actions.md")
    }

    @Test func textOutputListsEveryActionAndBadFormatIsAUsageError() throws {
        let text = try DrctlProcess.run(["actions"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("aws.rds.fence-instance  (changes things)"))
        #expect(text.stdout.contains("needs rds:StopDBInstance: method stop"))
        #expect(try DrctlProcess.run(["actions", "--output", "yaml"]).status == 2)
    }
}
