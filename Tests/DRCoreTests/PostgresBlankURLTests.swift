import DRCore
import Foundation
import PostgresProvider
import Testing

/// A URL variable that holds only blanks is not a URL: libpq would read it as an empty conninfo and
/// connect to its defaults ($PGHOST, else the local socket) — a fence or a promotion of a server the
/// plan never named. It must be refused like an unset variable, before any connection.
@Suite("PostgreSQL URL variables: blank is not set")
struct PostgresBlankURLTests {
    @Test(arguments: [" ", "\t", "\n", "  \r\n "])
    func aBlankVariableIsRefusedLikeAnUnsetOne(value: String) {
        let arguments: [String: RunValue] = ["url_env": .string("LEDGER_URL")]
        #expect {
            try PostgresActionTarget.resolve("url", in: arguments, environment: ["LEDGER_URL": value])
        } throws: { error in
            "\(error)".contains("environment variable LEDGER_URL (named by url_env) is not set")
        }
    }

    @Test func aURLWithSurroundingBlanksStillResolves() throws {
        let arguments: [String: RunValue] = ["url_env": .string("LEDGER_URL")]
        let target = try PostgresActionTarget.resolve("url", in: arguments, environment: ["LEDGER_URL": " postgres://db.internal/ledger "])
        #expect(target.display.contains("db.internal"))
    }

    /// The move stops before anything changes (exit 8, the variable named), as for an unset one.
    @Test func aMoveWhoseStandbyURLIsBlankStopsBeforeAnything() async throws {
        let text = """
        name: ledger
        sites: { primary: us-east-1, dr: [us-west-2] }
        postgres:
          databases:
            - { name: ledger, primary: { site: us-east-1, url_env: P_URL }, standbys: [ { site: us-west-2, url_env: S_URL } ] }
        """
        let plan = try DRPlanLoader.parse(bytes: Array(text.utf8), path: "plan.yaml", sections: PlanSections.all)
        let move = Move(kind: .failover, from: "us-east-1", to: "us-west-2")
        await #expect {
            _ = try await PostgresProvider(environment: ["P_URL": "postgres://a", "S_URL": " \n"]).prepare(move, plan: plan)
        } throws: { error in
            error is ProviderCredentialsMissing && "\(error)".contains("S_URL (the URL of database ledger's standby in us-west-2) is not set")
        }
    }
}
