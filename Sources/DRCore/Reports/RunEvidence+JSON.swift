import Foundation

extension RunEvidence {
    /// The schema name in every JSON report; bump the version when a key changes meaning or goes.
    public static let jsonSchema = "drctl.evidence/v1"

    /// The evidence for machines: stable snake_case keys, every key always present.
    public var json: ReportJSON {
        .object([
            "schema": .string(Self.jsonSchema),
            "run": .object([
                "id": .string(runId), "runbook": .string(runbookName), "runbook_path": .string(runbookPath),
                "runbook_digest": .string(runbookDigest), "mode": .string(mode), "plan": .optional(plan),
                "from_region": .optional(fromRegion), "to_region": .optional(toRegion),
                "started_by": .string(startedBy), "host": .string(host),
                "started_at": .date(startedAt), "ended_at": .optional(endedAt), "status": .string(status.rawValue),
                "inputs": .object(inputs.mapValues(ReportJSON.string)), "journal_entries": .int(journalEntries),
            ]),
            "rto": .object([
                "measured_seconds": .optional(rto.measuredSeconds), "budget_seconds": .optional(rto.budgetSeconds),
                "forecast_seconds": .optional(rto.forecastSeconds), "verdict": .string(rto.verdict.rawValue),
            ]),
            "rpo": .object([
                "expected_seconds": .optional(rpo.expectedSeconds), "measured_seconds": .optional(rpo.measuredSeconds),
                "budget_seconds": .optional(rpo.budgetSeconds), "source": .optional(rpo.source), "verdict": .string(rpo.verdict.rawValue),
            ]),
            "data_loss_acceptance": dataLossAcceptance.map { acceptance in
                .object([
                    "accepted_seconds": .optional(acceptance.acceptedSeconds), "expected_seconds": .optional(acceptance.expectedSeconds),
                    "budget_seconds": .optional(acceptance.budgetSeconds), "by": .string(acceptance.by), "at": .date(acceptance.at),
                ])
            } ?? .null,
            "preflight_checks": .array(preflightChecks.map(\.json)),
            "validations": .array(validations.map(\.json)),
            "steps": .array(steps.map { step in
                .object([
                    "id": .string(step.id), "action": .string(step.action), "description": .string(step.description),
                    "result": .string(step.result), "started_at": .optional(step.startedAt), "ended_at": .optional(step.endedAt),
                    "duration_seconds": .optional(step.durationSeconds), "attempts": .int(step.attempts), "error": .optional(step.error),
                    "approved_by": .optional(step.approvedBy), "denied_by": .optional(step.deniedBy), "shown": .optional(step.shown),
                    "compensated": .bool(step.compensated), "outputs": .object(step.outputs.mapValues(ReportJSON.string)),
                ])
            }),
            "approvals": .array(approvals.map { approval in
                .object([
                    "step": .string(approval.stepId), "decision": .string(approval.decision), "by": .string(approval.by),
                    "via": .string(approval.via), "shown": .string(approval.shown), "reason": .optional(approval.reason), "at": .date(approval.at),
                ])
            }),
            "compensations": .array(compensations.map { compensation in
                .object([
                    "step": .string(compensation.stepId), "action": .optional(compensation.action), "summary": .optional(compensation.summary),
                    "reason": .optional(compensation.reason), "result": .optional(compensation.result), "error": .optional(compensation.error),
                    "started_at": .optional(compensation.startedAt), "ended_at": .optional(compensation.endedAt),
                ])
            }),
            "transitions": .array(transitions.map { transition in
                .object(["at": .date(transition.at), "from": .optional(transition.from), "to": .string(transition.to), "reason": .optional(transition.reason)])
            }),
        ])
    }
}

extension CheckEvidence {
    var json: ReportJSON { .object(["name": .string(name), "ok": .bool(ok), "result": .string(result), "detail": .string(detail)]) }
}
