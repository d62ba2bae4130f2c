import ArgumentParser
import DRCore
import Foundation

/// `--state`: where runs are journaled.
struct StateOptions: ParsableArguments {
    @Option(name: .long, help: "State store: a SQLite file path, or PostgreSQL shared by a team as a postgres:// URL or a libpq conninfo ('host=… dbname=…') (default: $XDG_STATE_HOME/drctl/state.db; env DRCTL_STATE_URL). Keep it outside the region you fail over from.")
    var state: String?

    @Option(name: .long, help: "Seconds a state-store outage (a PostgreSQL restart, a lock held too long, an I/O error) is ridden through before a write fails (default 30).")
    var stateRetry: Double = 30

    func validate() throws {
        guard stateRetry.isFinite, (0...3600).contains(stateRetry) else { throw ValidationError("--state-retry must be between 0 and 3600 seconds") }
    }

    /// The store to record runs in: created and migrated if needed.
    func openStore() throws -> any StateStore {
        let store = try open(readOnly: false)
        #if DEBUG
        // Test builds: DRCTL_CRASH_AT=N … stops drctl at its N-th journal append (CrashPointStore).
        do {
            return try CrashPointStore.wrap(store, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw RunEnded(status: .usage, message: "\(error)")
        }
        #else
        return store
        #endif
    }

    /// The store as it is, for commands that only read: no file created, no DDL, no lock, so that
    /// a read-only replica or file serves. A store without drctl's tables reads as empty, with a
    /// note on stderr.
    func openStoreForReading() async throws -> any StateStore {
        let store = try open(readOnly: true)
        if let note = try await store.missingSchemaNote() {
            FileHandle.standardError.write(Data("drctl: note: \(note)\n".utf8))
        }
        return store
    }

    private func open(readOnly: Bool) throws -> any StateStore {
        let environment = ProcessInfo.processInfo.environment
        let retry = StoreRetry(outageTolerance: stateRetry)
        switch try StateLocation.parse(state ?? environment["DRCTL_STATE_URL"] ?? SQLiteStateStore.defaultPath(environment: environment)) {
        case .postgres(let target):
            // Connects on first use; the password may come from the URL/conninfo, PGPASSWORD or PGPASSFILE.
            return try PostgresStateStore(url: target, retry: retry, readOnly: readOnly)
        case .sqlite(let path):
            return try SQLiteStateStore(path: path, retry: retry, readOnly: readOnly)
        }
    }
}

/// Options of commands that execute steps (run, resume, approve).
struct ExecutionOptions: ParsableArguments {
    @Flag(name: .long, help: "Approve every approval step as the operator (required without a terminal for anything irreversible).")
    var yes = false

    @Option(name: .customLong("approve"), help: "Pre-approve this step (repeatable).")
    var preApproved: [String] = []

    @Option(name: .customLong("operator"), help: "Who is running this, for the journal (default: the OS user).")
    var operatorName: String?

    @Option(name: .long, help: "Steps run at once (default 4).")
    var concurrency = 4

    @Option(name: .long, help: "Seconds the run's single-flight lease lasts without renewal (renewed every third of it; default 60). After a crash, another process can take over once it expires.")
    var leaseTtl: Double = 60

    func validate() throws {
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 256") }
        // NaN and infinity fail the range too; the lease is renewed every third of it, in milliseconds.
        guard (1...86_400).contains(leaseTtl) else { throw ValidationError("--lease-ttl must be from 1 to 86400 seconds") }
    }

    var resolvedOperator: String {
        if let operatorName, !operatorName.isEmpty { return operatorName }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        let environment = ProcessInfo.processInfo.environment
        return environment["USER"] ?? environment["LOGNAME"] ?? "uid-\(getuid())"
    }

    func engineConfiguration() -> EngineConfiguration {
        EngineConfiguration(concurrency: concurrency, autoApprove: yes, preApproved: Set(preApproved), operatorName: resolvedOperator,
                            host: ThisHost.name, leaseTTL: leaseTtl)
    }
}

/// Parses `--input name=value` against the runbook's declared inputs.
enum InputParser {
    static func parse(_ assignments: [String], for runbook: Runbook) throws -> [String: RunValue] {
        var given: [String: String] = [:]
        for assignment in assignments {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                throw ValidationError("--input expects name=value, got '\(assignment)'")
            }
            given[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
        }
        var values: [String: RunValue] = [:]
        for name in given.keys where !runbook.inputs.contains(where: { $0.name == name }) {
            let known = runbook.inputs.map(\.name).joined(separator: ", ")
            throw ValidationError("runbook \(runbook.name) has no input '\(name)' (inputs: \(known.isEmpty ? "none" : known))")
        }
        for input in runbook.inputs {
            if let text = given[input.name] {
                values[input.name] = try convert(text, to: input.type, name: input.name)
            } else if let value = input.defaultValue {
                values[input.name] = value
            } else {
                throw ValidationError("input '\(input.name)' is required: pass --input \(input.name)=VALUE")
            }
        }
        return values
    }

    static func convert(_ text: String, to type: RunValueType, name: String) throws -> RunValue {
        func fail(_ expected: String) -> ValidationError { ValidationError("input '\(name)' must be \(expected), got '\(text)'") }
        switch type {
        case .string, .any: return .string(text)
        case .int:
            guard let value = Int(text) else { throw fail("a whole number") }
            return .int(value)
        case .number:
            // Double() also reads "inf", "nan" and "1e400" (infinity): none is a number a runbook can use.
            guard let value = Double(text), value.isFinite else { throw fail("a finite number") }
            return .double(value)
        case .bool:
            switch text.lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: throw fail("true or false")
            }
        case .duration:
            guard let seconds = DurationText.parse(text) else { throw fail("a duration like 90s, 5m or 4h (\(DurationText.rangeText))") }
            return .duration(seconds)
        case .list, .map, .null:
            guard let data = text.data(using: .utf8), let value = try? JSONDecoder().decode(JSONValue.self, from: data).runValue,
                  value.type == type || type == .null else { throw fail("JSON \(type.rawValue)") }
            return value
        }
    }
}

/// Decodes plain JSON into a RunValue (for list/map inputs).
private struct JSONValue: Decodable {
    let runValue: RunValue
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { runValue = .null }
        else if let value = try? container.decode(Bool.self) { runValue = .bool(value) }
        else if let value = try? container.decode(Int.self) { runValue = .int(value) }
        else if let value = try? container.decode(Double.self) { runValue = .double(value) }
        else if let value = try? container.decode(String.self) { runValue = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { runValue = .list(value.map(\.runValue)) }
        else { runValue = .map(try container.decode([String: JSONValue].self).mapValues(\.runValue)) }
    }
}

extension StateStore {
    /// The run, or a usage error that says where run ids are listed.
    func requireRun(_ id: String) async throws -> RunRecord {
        guard let record = try await run(id) else {
            throw RunEnded(status: .usage, message: "no run \(id) in this state store (see `drctl runs`)")
        }
        return record
    }
}

extension RunRecord {
    /// Refuses to `verb` (resume, abort) a run that already finished for good.
    func requireUnfinished(_ verb: String) throws {
        guard !(status == .succeeded || status == .aborted) else {
            throw RunEnded(status: .usage, message: "run \(id) is \(status.rawValue): nothing to \(verb)")
        }
    }
}

/// The name this machine goes by in run records and leases: `DRCTL_HOST` when set (containers
/// whose hostnames change per task; tests that play a second machine), else the hostname.
enum ThisHost {
    static var name: String {
        let override = ProcessInfo.processInfo.environment["DRCTL_HOST"] ?? ""
        return override.isEmpty ? ProcessInfo.processInfo.hostName : override
    }
}
