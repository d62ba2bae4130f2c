/// What an execution runs with, besides the runbook and the run: where it journals, which actions
/// it may call, how it asks for approvals, where it reports, the services its actions get and the
/// interruption flag of Ctrl-C. A parent run hands the same environment to its child runs.
public struct EngineEnvironment: Sendable {
    public var store: any StateStore
    public var registry: ActionRegistry
    public var configuration: EngineConfiguration
    public var prompter: any ApprovalPrompter
    public var observer: any RunObserver
    public var services: ActionServices
    public var interruption: InterruptionFlag

    public init(store: any StateStore, registry: ActionRegistry, configuration: EngineConfiguration, prompter: any ApprovalPrompter,
                observer: any RunObserver, services: ActionServices, interruption: InterruptionFlag) {
        self.store = store
        self.registry = registry
        self.configuration = configuration
        self.prompter = prompter
        self.observer = observer
        self.services = services
        self.interruption = interruption
    }
}
