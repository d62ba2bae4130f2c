/// The checks a runbook file gets from the loader, for a runbook drctl built as a value: unique
/// step ids in the runbook grammar (the pinned text is read back by `drctl resume`), needs that
/// name earlier steps (so the steps form a DAG), actions the catalog has, and arguments each
/// action declares, its required ones present. A generator bug is caught here,
/// before anything runs, with the step it is in.
enum GeneratedRunbookCheck {
    static func check(_ runbook: Runbook, catalog: ActionCatalog) throws(MoveComposer.Problem) {
        var problems: [String] = []
        var seen: Set<String> = []
        for step in runbook.steps {
            if !seen.insert(step.id).inserted { problems.append("step \(step.id): the id is used twice") }
            if !RunbookDecoder.isName(step.id, allowUnderscore: true) {
                problems.append("step \(step.id): the id is not lower-case letters, digits, '_' and '-'")
            }
            for need in step.needs where !seen.contains(need) || need == step.id {
                problems.append("step \(step.id): needs \(need), which is not an earlier step")
            }
            for call in [step.call] + (step.compensate.map { [$0] } ?? []) {
                guard let action = catalog.action(named: call.action) else {
                    problems.append("step \(step.id): action \(call.action) is not available")
                    continue
                }
                for key in call.with.keys.sorted() where action.parameters[key] == nil {
                    problems.append("step \(step.id): \(call.action) takes no argument \(key)")
                }
                for key in action.requiredParameters where call.with[key] == nil {
                    problems.append("step \(step.id): \(call.action) needs the argument \(key)")
                }
            }
        }
        guard problems.isEmpty else {
            throw MoveComposer.Problem(message: "the generated runbook \(runbook.name) is not valid (a drctl defect):\n  " + problems.joined(separator: "\n  "))
        }
    }
}
