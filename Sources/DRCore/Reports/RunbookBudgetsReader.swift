import Foundation
import Yams

/// Reads only `budgets: { rpo, rto }` from a runbook's text, without validating the rest: reports
/// must read the budgets of runs whose actions this build does not know (a provider not compiled
/// in, a renamed action). Anything unreadable is simply no budget.
public enum RunbookBudgetsReader {
    public static func budgets(inText text: String) -> RunbookBudgets {
        guard text.utf8.count <= RunbookLoader.Limits.stored.maximumBytes,
              SourceText.firstPositionDeeperThan(RunbookLoader.maximumNesting, in: text) == nil,
              let root = try? Yams.compose(yaml: text, Resolver.basic),
              case .mapping(let top) = root,
              let node = top[Node("budgets")], case .mapping(let budgets) = node else { return RunbookBudgets() }
        return RunbookBudgets(rpo: budgets[Node("rpo")].flatMap(seconds), rto: budgets[Node("rto")].flatMap(seconds))
    }

    private static func seconds(_ node: Node) -> Double? {
        guard case .scalar(let scalar) = node else { return nil }
        return DurationText.parse(scalar.string)
    }
}
