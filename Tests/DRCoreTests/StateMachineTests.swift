import Testing
@testable import DRCore

/// The step and run state machines, event by event: every documented transition, and refusal
/// of everything else.
struct StateMachineTests {
    typealias Step = StepStateMachine

    @Test func stepHappyPath() throws {
        var machine = Step(maxAttempts: 1)
        #expect(try machine.handle(.start) == .run(attempt: 1))
        #expect(machine.state == .running)
        #expect(try machine.handle(.succeeded) == .finish(.succeeded))
        #expect(machine.state == .succeeded)
        #expect(try machine.handle(.compensated) == .finish(.compensated))
        #expect(machine.state == .compensated)
    }

    @Test func stepRetriesUntilAttemptsRunOut() throws {
        var machine = Step(maxAttempts: 3)
        _ = try machine.handle(.start)
        #expect(try machine.handle(.failed(error: "5xx", retryable: true)) == .retry(attempt: 2))
        #expect(machine.state == .running)
        #expect(try machine.handle(.failed(error: "5xx", retryable: true)) == .retry(attempt: 3))
        #expect(try machine.handle(.failed(error: "5xx", retryable: true)) == .finish(.failed))
        #expect(machine.state == .failed)
        #expect(machine.attempt == 3)
    }

    @Test func stepDoesNotRetryAPermanentFailure() throws {
        var machine = Step(maxAttempts: 5)
        _ = try machine.handle(.start)
        #expect(try machine.handle(.failed(error: "validation", retryable: false)) == .finish(.failed))
        #expect(machine.attempt == 1)
    }

    @Test func stepApprovalWaitsThenRunsOrFails() throws {
        var approved = Step()
        _ = try approved.handle(.start)
        #expect(try approved.handle(.needApproval) == .promptForApproval)
        #expect(approved.state == .waiting)
        #expect(try approved.handle(.approved) == .run(attempt: 1))
        #expect(approved.state == .running)

        var denied = Step()
        _ = try denied.handle(.start)
        _ = try denied.handle(.needApproval)
        #expect(try denied.handle(.denied) == .finish(.failed))
    }

    @Test func stepOutcomeUnknownIsResumedByStartingAgain() throws {
        var machine = Step(maxAttempts: 1)
        _ = try machine.handle(.start)
        #expect(try machine.handle(.outcomeUnknown(error: "connection reset while acting")) == .finish(.unknown))
        #expect(machine.state == .unknown)
        #expect(try machine.handle(.start) == .run(attempt: 2))
    }

    @Test func stepInterruptedReturnsToPending() throws {
        var machine = Step()
        _ = try machine.handle(.start)
        #expect(try machine.handle(.interrupted) == .returnToPending)
        #expect(machine.state == .pending)
        var waiting = Step()
        _ = try waiting.handle(.start)
        _ = try waiting.handle(.needApproval)
        #expect(try waiting.handle(.interrupted) == .returnToPending)
    }

    @Test func stepSkipIsOnlyFromPending() throws {
        var machine = Step()
        #expect(try machine.handle(.skip(reason: "when is false")) == .finish(.skipped))
        #expect(throws: Step.IllegalTransition.self) { try machine.handle(.start) }
    }

    @Test(arguments: [
        (Step.State.pending, Step.Event.succeeded),
        (.pending, .approved),
        (.running, .start),
        (.running, .skip(reason: "x")),
        (.waiting, .succeeded),
        (.succeeded, .start),
        (.succeeded, .failed(error: "x", retryable: true)),
        (.skipped, .compensated),
        (.failed, .compensated),
        (.compensated, .start),
    ])
    func stepRefusesIllegalEvents(state: Step.State, event: Step.Event) {
        var machine = Step(state: state, attempt: 1, maxAttempts: 3)
        #expect(throws: Step.IllegalTransition.self) { try machine.handle(event) }
        #expect(machine.state == state)
    }

    @Test func runTransitions() throws {
        var run = RunStateMachine()
        #expect(try run.handle(.pause) == .paused)
        #expect(try run.handle(.resume) == .running)
        #expect(try run.handle(.interrupt) == .interrupted)
        #expect(try run.handle(.resume) == .running)
        #expect(try run.handle(.finish(.unknown)) == .unknown)
        #expect(try run.handle(.resume) == .running)
        #expect(try run.handle(.finish(.failed)) == .failed)
        #expect(try run.handle(.resume) == .running)
        #expect(try run.handle(.finish(.succeeded)) == .succeeded)
    }

    @Test func runAbortFromEveryStoppedState() throws {
        for start in [RunStatus.running, .paused, .interrupted, .unknown, .failed] {
            var run = RunStateMachine(state: start)
            #expect(try run.handle(.abort) == .aborted)
        }
    }

    @Test(arguments: [
        (RunStatus.succeeded, RunStateMachine.Event.resume),
        (.succeeded, .abort),
        (.aborted, .resume),
        (.paused, .pause),
        (.running, .resume),
        (.running, .finish(.paused)),
        (.paused, .finish(.succeeded)),
    ])
    func runRefusesIllegalEvents(state: RunStatus, event: RunStateMachine.Event) {
        var run = RunStateMachine(state: state)
        #expect(throws: RunStateMachine.IllegalTransition.self) { try run.handle(event) }
        #expect(run.state == state)
    }
}

/// RTO arithmetic.
struct RTOForecastTests {
    func step(_ id: String, needs: [String] = [], estimate: Double? = nil) -> RunbookStep {
        RunbookStep(id: id, call: ActionCall(action: "wait"), needs: needs, estimate: estimate)
    }

    @Test func criticalPathFollowsTheLongestChain() {
        let steps = [step("a", estimate: 60), step("b", needs: ["a"], estimate: 600), step("c", needs: ["a"], estimate: 30),
                     step("d", needs: ["b", "c"], estimate: 120)]
        let estimates = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, $0.estimate ?? 0) })
        #expect(RTOForecast.remainingCriticalPath(steps: steps, estimates: estimates, finished: []) == 780)
        #expect(RTOForecast.remainingCriticalPath(steps: steps, estimates: estimates, finished: ["a", "b"]) == 150)   // c (30) then d (120)
        #expect(RTOForecast.parallelGroups(steps) == [["a"], ["b", "c"], ["d"]])
    }
}
