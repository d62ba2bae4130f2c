import DRCore
import Foundation
import Testing

@Suite("Run history")
struct RunHistoryTests {
    static let q1 = Date(timeIntervalSince1970: 1_768_478_400)   // 2026-01-15 12:00 UTC
    static let q2 = Date(timeIntervalSince1970: 1_776_254_400)   // 2026-04-15 12:00 UTC

    static func runs() -> [RunEvidence] {
        [
            // Q1: two drills (300s, 200s) and a failed failover; RPO 120s, 60s, 600s.
            JournalScript.failover(id: "q1-a", start: q1, end: 305, expectedLoss: 120, mode: "drill").evidence(),
            JournalScript.failover(id: "q1-b", start: q1.addingTimeInterval(86_400), end: 205, expectedLoss: 60, mode: "drill").evidence(),
            JournalScript.failover(id: "q1-c", start: q1.addingTimeInterval(2 * 86_400), end: 55, status: .failed, expectedLoss: 600).evidence(),
            // Q2: faster — 100s and 60s, RPO 30s and 10s.
            JournalScript.failover(id: "q2-a", start: q2, end: 105, expectedLoss: 30, mode: "drill").evidence(),
            JournalScript.failover(id: "q2-b", start: q2.addingTimeInterval(3600), end: 65, expectedLoss: 10).evidence(),
            // Not DR evidence: a plain runbook run.
            JournalScript.failover(id: "q2-run", start: q2, end: 9000, mode: "run").evidence(),
        ]
    }

    @Test func groupsByQuarterWithSpreadAndSuccessRate() throws {
        let history = RunHistory(evidence: Self.runs())
        #expect(history.quarters.map(\.name) == ["2026-Q1", "2026-Q2"])
        let first = history.quarters[0]
        #expect(first.runs == 3 && first.succeeded == 2 && first.drills == 2)
        #expect(abs(first.successRate - 2.0 / 3.0) < 1e-9)
        // RTO over the successful runs only; RPO over all of them.
        #expect(first.rto == RunHistory.Spread([300, 200]))
        #expect(first.rto?.median == 250)
        #expect(first.rtoOverBudget == 2)
        #expect(first.rpo?.min == 60 && first.rpo?.median == 120 && first.rpo?.max == 600)
        let second = history.quarters[1]
        #expect(second.runs == 2 && second.successRate == 1)
        #expect(second.rto?.median == 80)
        #expect(!history.runIds.contains("q2-run"))
    }

    @Test func trendComparesTheLatestQuarterWithThePreviousOne() {
        let better = RunHistory(evidence: Self.runs())
        #expect(better.rtoTrend == .improving)
        #expect(better.rpoTrend == .improving)

        let worse = RunHistory(evidence: [
            JournalScript.failover(id: "a", start: Self.q1, end: 65).evidence(),
            JournalScript.failover(id: "b", start: Self.q2, end: 605, expectedLoss: 900).evidence(),
        ])
        #expect(worse.rtoTrend == .worsening)
        #expect(worse.rpoTrend == .worsening)

        let single = RunHistory(evidence: [JournalScript.failover(id: "a", start: Self.q1).evidence()])
        #expect(single.rtoTrend == .insufficientData)
    }

    @Test func filtersByPlanAndDate() {
        let runs = Self.runs()
        #expect(RunHistory(evidence: runs, plan: "orders").runIds.count == 5)
        #expect(RunHistory(evidence: runs, plan: "payments").quarters.isEmpty)
        let recent = RunHistory(evidence: runs, since: Date(timeIntervalSince1970: 1_775_001_600))   // 2026-04-01
        #expect(recent.quarters.map(\.name) == ["2026-Q2"])
        #expect(recent.rtoTrend == .insufficientData)
    }

    @Test func rendersTextJSONAndMarkdown() throws {
        let history = RunHistory(evidence: Self.runs(), plan: "orders")
        let text = history.text()
        #expect(text.contains("2026-Q1  3     2       67%"))
        #expect(text.contains("RTO trend: improving; RPO trend: improving"))
        let markdown = history.markdown()
        #expect(markdown.contains("| 2026-Q2 | 2 | 1 | 100% | 1m / 1m20s / 1m40s | 0 | 10s / 20s / 30s | 0 |"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(history.json.rendered().utf8)) as? [String: Any])
        #expect(object["rto_trend"] as? String == "improving")
        let quarters = try #require(object["quarters"] as? [[String: Any]])
        #expect((quarters.first?["rto"] as? [String: Any])?["median_seconds"] as? Double == 250)
        #expect(quarters.first?["success_rate"] as? Double == 0.667)
    }

    @Test func quartersAreCalendarQuartersInUTC() {
        #expect(RunHistory.quarter(of: Date(timeIntervalSince1970: 1_767_225_599)) == "2025-Q4")   // 2025-12-31 23:59:59
        #expect(RunHistory.quarter(of: Date(timeIntervalSince1970: 1_767_225_600)) == "2026-Q1")
        #expect(RunHistory.quarter(of: Date(timeIntervalSince1970: 1_782_863_999)) == "2026-Q2")   // 2026-06-30 23:59:59
    }
}
