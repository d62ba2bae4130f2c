import Foundation

/// Starts or resumes child runs for the `run` action, with the parent's store, actions,
/// approvals, renderer and interruption. A child's id is `PARENT.STEP`: stable, so a resumed
/// parent finds its child and resumes it instead of starting another.
public final class ChildRunLauncher: Sendable {
    public struct Result: Sendable {
        public let runId: String
        public let status: RunStatus
        public let outputs: [String: RunValue]
    }

    let parent: RunRecord
    let parentRunbookPath: String
    /// The parent's: children journal to the same store, with the same actions, approvals,
    /// renderer and interruption.
    let environment: EngineEnvironment
    /// Child runs nest at most this deep (a runbook that runs itself would never end).
    static let maximumDepth = 8

    private var store: any StateStore { environment.store }

    init(parent: RunRecord, parentRunbookPath: String, environment: EngineEnvironment) {
        self.parent = parent
        self.parentRunbookPath = parentRunbookPath
        self.environment = environment
    }

    /// The child's run id, for observing it without running it.
    func childId(step: String) -> String { "\(parent.id).\(step)" }

    func existing(step: String) async throws -> Result? {
        let id = childId(step: step)
        guard let record = try await store.run(id) else { return nil }
        return Result(runId: id, status: record.status, outputs: Self.outputs(of: try await store.journal(runId: id)))
    }

    func run(step: String, runbookPath: String, inputs: [String: RunValue]) async throws -> Result {
        let id = childId(step: step)
        guard id.split(separator: ".").count <= Self.maximumDepth else {
            throw ActionError(.permanent, "child runs nest deeper than \(Self.maximumDepth): does \(runbookPath) run itself?")
        }
        let base = URL(fileURLWithPath: parentRunbookPath).deletingLastPathComponent()
        let path = runbookPath.hasPrefix("/") ? runbookPath : base.appendingPathComponent(runbookPath).standardizedFileURL.path
        let runbook: Runbook
        do {
            runbook = try RunbookLoader.load(path: path, catalog: environment.registry.catalog)
        } catch {
            throw ActionError(.permanent, "child runbook \(runbookPath) is invalid:\n\(error)")
        }
        var record = try await store.run(id)
        if record == nil {
            var values: [String: RunValue] = [:]
            for input in runbook.inputs {
                guard let value = inputs[input.name] ?? input.defaultValue else {
                    throw ActionError(.permanent, "child runbook \(runbook.name) needs input \(input.name)")
                }
                values[input.name] = value
            }
            let now = environment.services.clock.now()
            let created = RunRecord(id: id, runbookName: runbook.name, runbookPath: path, runbookDigest: runbook.source.digest,
                                    runbookText: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "", inputs: values,
                                    status: .running, createdAt: now, updatedAt: now, startedBy: parent.startedBy, host: parent.host,
                                    mode: "child of \(parent.id)", lockScope: id)
            try await store.createRun(created)
            record = created
        }
        guard let record else { throw ActionError(.permanent, "child run \(id) could not be created") }
        if record.status == .succeeded {
            return Result(runId: id, status: .succeeded, outputs: Self.outputs(of: try await store.journal(runId: id)))
        }
        let executor = RunExecutor(runbook: runbook, run: record, journal: try await store.journal(runId: id), environment: environment)
        let status = try await executor.execute(lockScope: id)
        return Result(runId: id, status: status, outputs: Self.outputs(of: try await store.journal(runId: id)))
    }

    /// The run's outputs, journaled as a note when it succeeded.
    static func outputs(of journal: [JournalEntry]) -> [String: RunValue] {
        for entry in journal.reversed() where entry.kind == .note && entry.detail["event"] == .string("outputs") {
            if case .map(let outputs)? = entry.detail["outputs"] { return outputs }
        }
        return [:]
    }
}
