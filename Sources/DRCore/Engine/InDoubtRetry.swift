import Foundation

/// A step whose last attempt was interrupted between intent and outcome (a crash, `kill -9`, a
/// second Ctrl-C) is *in doubt*: its action may have acted. Before anything observes or acts again:
/// 1. the action settles what that attempt may still have running (`settleInDoubt`: an `exec`
///    command's process group is waited for, then stopped at the step's deadline), journaled;
/// 2. an action that cannot observe its effect for these arguments (`canObserve` false: `exec`
///    without `observe`) acts again only with a human's permission — `--rerun-unknown STEP` or a
///    typed answer at a terminal, journaled with who and when. Otherwise the step stays unknown.
extension StepRunner {
    enum InDoubtDecision {
        /// Go on (observe, then act if needed) with what the interrupted attempt journaled.
        case proceed([String: RunValue])
        case stop(Result)
    }

    func prepareInDoubtRetry(attempt: Int, arguments: [String: RunValue], timeout: Double) async -> InDoubtDecision {
        let store = self.store, clock = services.clock, stepId = step.id, runId = self.runId, action = self.action
        let detail = (try? await interruptedAttemptDetail()) ?? [:]
        let invocation = ActionInvocation(runId: runId, stepId: stepId, attempt: attempt, arguments: arguments,
                                          firstStartedAt: record.firstStartedAt ?? clock.now(),
                                          deadline: clock.now().addingTimeInterval(timeout), isResume: true, services: services,
                                          inDoubtDetail: detail)
        // The settling waits up to the step's deadline and then needs a moment to stop what is left.
        let settled = await withTimeout(seconds: timeout + 10, interruption: interruption) {
            try await action.settleInDoubt(invocation)
        }
        switch settled {
        case .success(let finding?):
            observer.handle(.message("step \(stepId): \(finding)"))
            _ = try? await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .note, stepId: stepId, attempt: attempt,
                                                     detail: ["event": .string("in-doubt-settled"), "finding": .string(finding)]))
        case .success(nil):
            break
        case .failure(let error):
            if interruption.stage == .stopNow { return .stop(.interrupted) }
            return .stop(.unknown("could not settle the interrupted attempt: \(error.message)"))
        }

        guard !action.canObserve(arguments) else { return .proceed(detail) }
        let request = RerunRequest(runId: runId, stepId: stepId, summary: action.describe(arguments))
        let answer: ApprovalAnswer?
        let via: String
        if configuration.rerunUnknown.contains(stepId) {
            answer = .approved(by: configuration.operatorName)
            via = "--rerun-unknown"
        } else {
            answer = await prompter.confirmRerun(request)
            via = "terminal"
        }
        let stayUnknown = { (why: String) async -> InDoubtDecision in
            // Lets the CLI name the steps that need `--rerun-unknown` when the run stops.
            _ = try? await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .note, stepId: stepId, attempt: attempt,
                                                     detail: ["event": .string("rerun-needed")]))
            return .stop(.unknown("\(why); to run it again: drctl resume \(runId) --rerun-unknown \(stepId)"))
        }
        guard let answer else { return await stayUnknown("drctl cannot observe whether it took effect before the interruption") }
        do {
            try await store.append(request.journalEntry(answer, via: via, at: clock.now()))
        } catch {
            return .stop(.unknown("could not journal the permission to run it again: \(error)"))
        }
        if case .denied(let by, _) = answer { return await stayUnknown("\(by) did not allow running it again") }
        return .proceed(detail)
    }

    /// What the in-doubt attempt journaled through `recordIntentDetail` (after the step's last intent).
    private func interruptedAttemptDetail() async throws -> [String: RunValue] {
        let entries = try await store.journal(runId: runId).filter { $0.stepId == step.id }
        let lastIntent = entries.lastIndex { $0.kind == .intent } ?? entries.startIndex
        var detail: [String: RunValue] = [:]
        for entry in entries[lastIntent...] where entry.kind == .note && entry.detail["event"]?.stringValue == Self.intentDetailEvent {
            if case .map(let more)? = entry.detail["detail"] { detail.merge(more) { $1 } }
        }
        return detail
    }

    static let intentDetailEvent = "intent-detail"

    /// The hook an attempt's invocation journals its intent's details through: a durable note tied
    /// to the step and attempt, written before the action goes on.
    func intentDetailRecorder(attempt: Int) -> @Sendable ([String: RunValue]) async throws -> Void {
        let store = self.store, clock = services.clock, runId = self.runId, stepId = step.id
        return { detail in
            try await store.append(JournalEntry(runId: runId, at: clock.now(), kind: .note, stepId: stepId, attempt: attempt,
                                                detail: ["event": .string(Self.intentDetailEvent), "detail": .map(detail)]))
        }
    }
}

/// The question asked before an in-doubt step that cannot be observed runs again.
public struct RerunRequest: Sendable, Equatable {
    public let runId: String
    public let stepId: String
    /// What the step does (`describe`), e.g. "run `./promote.sh`".
    public let summary: String

    public init(runId: String, stepId: String, summary: String) {
        self.runId = runId
        self.stepId = stepId
        self.summary = summary
    }

    /// The exact text shown, journaled with the decision.
    public var shown: String {
        "Step \(stepId) of run \(runId) was interrupted while it acted: \(summary)\n"
            + "drctl cannot observe whether that took effect. Running it again may do it twice. Type \(stepId) to run it again."
    }

    /// An approval entry (who, when, how, what they saw) with `subject: rerun`.
    public func journalEntry(_ answer: ApprovalAnswer, via: String, at: Date) -> JournalEntry {
        var entry = ApprovalRequest(runId: runId, stepId: stepId, summary: summary, irreversible: false, resource: nil)
            .journalEntry(answer, via: via, at: at)
        entry.detail["shown"] = .string(shown)
        entry.detail["subject"] = .string("rerun")
        return entry
    }
}
