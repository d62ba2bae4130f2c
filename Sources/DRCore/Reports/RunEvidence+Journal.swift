import Foundation

extension RunEvidence {
    /// Builds the evidence of `record` from its journal (in sequence order).
    /// - Parameter runbook: the runbook pinned in the run, parsed with the actions it calls; it
    ///   gives the step order, actions, descriptions, estimates and budgets. Without it (a runbook
    ///   whose actions this build does not know), steps come from the journal and the budgets are
    ///   read leniently from the pinned text.
    public init(record: RunRecord, journal entries: [JournalEntry], runbook: Runbook? = nil, redactor: SecretRedactor = SecretRedactor()) {
        let replay = JournalReplay(entries: entries)
        let clean = { (text: String) in redactor.redact(text) }
        let budgets = runbook?.budgets ?? RunbookBudgetsReader.budgets(inText: record.runbookText)

        // The RTO clock: first `running` → the final status (DESIGN.md "Budgets").
        let statusEntries = entries.filter { $0.kind == .runStatus }
        let clockStart = statusEntries.first { $0.detail["to"]?.stringValue == RunStatus.running.rawValue }?.at
            ?? statusEntries.first?.at ?? record.createdAt
        let finalEntry = statusEntries.last.flatMap { entry -> JournalEntry? in
            guard let to = entry.detail["to"]?.stringValue, RunStatus(rawValue: to)?.isFinal == true else { return nil }
            return entry
        }
        let status = replay.runStatus ?? record.status

        // Notes: preflight, data-loss acceptance, drill measurements and validations.
        // A failover or switchover holds `plan:NAME`, a drill `drill:NAME`; their first notes name the plan too.
        var plan: String? = ["plan:", "drill:"].first { record.lockScope.hasPrefix($0) }.map { String(record.lockScope.dropFirst($0.count)) }
        var from: String?, to: String?
        var expectedLoss: Double?, measuredLoss: Double?
        var acceptance: DataLossAcceptance?
        var drillRTO: Double??
        var checks: [CheckEvidence] = [], validations: [CheckEvidence] = []
        for entry in entries where entry.kind == .note {
            let detail = entry.detail
            switch detail["event"]?.stringValue {
            case "preflight":
                plan = detail["plan"]?.stringValue ?? plan
                from = detail["from"]?.stringValue.map(clean)
                to = detail["to"]?.stringValue.map(clean)
                expectedLoss = detail["expected_data_loss"]?.secondsValue
                if case .list(let items) = detail["checks"] { checks = items.compactMap { Self.check($0, clean) } }
            case "drill-started":
                plan = detail["plan"]?.stringValue ?? plan
            case "summary":
                expectedLoss = expectedLoss ?? detail["expected_data_loss"]?.secondsValue
            case "data-loss-accepted":
                acceptance = DataLossAcceptance(acceptedSeconds: detail["accepted"]?.secondsValue,
                                                expectedSeconds: detail["expected"]?.secondsValue,
                                                budgetSeconds: detail["budget"]?.secondsValue,
                                                by: clean(detail["by"]?.stringValue ?? "unknown"), at: entry.at)
            case "rpo-measured":
                measuredLoss = detail["measured_rpo"]?.secondsValue ?? measuredLoss
            case "drill-summary":
                // A drill recovers when its copy is validated; its teardown is not part of the RTO
                // (the drill's own summary measures it so, and the report must say the same).
                drillRTO = .some(detail["rto"]?.secondsValue)
            case "validation":
                if case .list(let items) = detail["results"] ?? detail["checks"] {
                    validations += items.compactMap { Self.check($0, clean) }
                } else if let single = Self.check(.map(detail), clean) {
                    validations.append(single)
                }
            default:
                break
            }
        }

        // Approvals and compensations, in journal order.
        var approvals: [ApprovalEvidence] = []
        var compensations: [CompensationEvidence] = []
        for entry in entries {
            guard let stepId = entry.stepId else { continue }
            let detail = entry.detail
            if entry.kind == .approval {
                approvals.append(ApprovalEvidence(stepId: stepId, decision: detail["decision"]?.stringValue ?? "unknown",
                                                  by: clean(detail["by"]?.stringValue ?? "unknown"), via: detail["via"]?.stringValue ?? "unknown",
                                                  shown: clean(detail["shown"]?.stringValue ?? ""), reason: detail["reason"]?.stringValue.map(clean), at: entry.at))
            } else if entry.kind == .compensation {
                if detail["phase"]?.stringValue == "intent" || compensations.last(where: { $0.stepId == stepId && $0.result == nil }) == nil {
                    compensations.append(CompensationEvidence(stepId: stepId, action: detail["action"]?.stringValue,
                                                              summary: detail["summary"]?.stringValue.map(clean),
                                                              reason: detail["reason"]?.stringValue.map(clean), startedAt: entry.at))
                }
                if detail["phase"]?.stringValue == "outcome", let index = compensations.lastIndex(where: { $0.stepId == stepId }) {
                    compensations[index].result = detail["result"]?.stringValue
                    compensations[index].error = detail["error"]?.stringValue.map(clean)
                    compensations[index].endedAt = entry.at
                }
            }
        }

        // Steps in the runbook's order; steps only the journal knows (a changed runbook) after them.
        var order = runbook?.steps.map(\.id) ?? []
        var seen = Set(order)
        for entry in entries {
            if let id = entry.stepId, !seen.contains(id) {
                order.append(id)
                seen.insert(id)
            }
        }
        let steps = order.map { id -> StepEvidence in
            let replayed = replay.steps[id] ?? JournalReplay.StepRecord()
            let definition = runbook?.step(id)
            let intent = entries.last { $0.stepId == id && $0.kind == .intent }
            return StepEvidence(id: id, action: definition?.call.action ?? intent?.detail["action"]?.stringValue ?? "?",
                                description: clean(definition?.description ?? ""),
                                result: replayed.compensated ? "compensated" : replayed.state.rawValue,
                                startedAt: replayed.startedAt, endedAt: replayed.endedAt, attempts: replayed.attempt,
                                error: replayed.error.map(clean), approvedBy: replayed.approvedBy.map(clean), deniedBy: replayed.deniedBy.map(clean),
                                shown: approvals.last { $0.stepId == id }?.shown, compensated: replayed.compensated,
                                outputs: replayed.outputs.mapValues { clean($0.description) })
        }

        let forecast = runbook.map { book -> Double in
            let estimates = Dictionary(book.steps.compactMap { step in step.estimate.map { (step.id, $0) } }, uniquingKeysWith: { first, _ in first })
            return RTOForecast.remainingCriticalPath(steps: book.steps, estimates: estimates, finished: [])
        }

        self.init(runId: record.id, runbookName: record.runbookName, runbookPath: record.runbookPath, runbookDigest: record.runbookDigest,
                  mode: record.mode, startedBy: clean(record.startedBy), host: clean(record.host), plan: plan, fromRegion: from, toRegion: to,
                  startedAt: clockStart, endedAt: finalEntry?.at, status: status,
                  rto: RTOEvidence(measuredSeconds: drillRTO ?? finalEntry.map { $0.at.timeIntervalSince(clockStart) }, budgetSeconds: budgets.rto,
                                   forecastSeconds: forecast.flatMap { $0 > 0 ? $0 : nil }),
                  rpo: RPOEvidence(expectedSeconds: expectedLoss, measuredSeconds: measuredLoss, budgetSeconds: budgets.rpo ?? acceptance?.budgetSeconds),
                  dataLossAcceptance: acceptance, preflightChecks: checks, validations: validations, steps: steps,
                  approvals: approvals, compensations: compensations,
                  transitions: statusEntries.map { RunTransition(at: $0.at, from: $0.detail["from"]?.stringValue, to: $0.detail["to"]?.stringValue ?? "?",
                                                                 reason: $0.detail["reason"]?.stringValue.map(clean)) },
                  inputs: record.inputs.mapValues { clean($0.description) }, journalEntries: entries.count)
    }

    /// A check or validation result: `{name, ok, detail}` (validations may say `passed`/`message`).
    private static func check(_ value: RunValue, _ clean: (String) -> String) -> CheckEvidence? {
        guard case .map(let map) = value, let name = (map["name"] ?? map["check"])?.stringValue,
              let ok = (map["ok"] ?? map["passed"])?.boolValue else { return nil }
        // Journals written before warnings were told apart have no `blocking`: every check counted.
        return CheckEvidence(name: clean(name), ok: ok, detail: clean((map["detail"] ?? map["message"])?.description ?? ""),
                             blocking: map["blocking"]?.boolValue ?? true)
    }
}
