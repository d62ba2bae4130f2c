import DRCore
import Foundation

/// Typed reads of a step's `with` arguments, shared by the S3, traffic and scaling actions.
/// Type errors are permanent: retrying a step does not fix its runbook.
struct StepArguments: Sendable {
    let values: [String: RunValue]

    init(_ values: [String: RunValue]) { self.values = values }

    func string(_ key: String) throws -> String {
        guard let value = try optionalString(key) else { throw ActionError(.permanent, "argument '\(key)' is required (a string)") }
        return value
    }

    func optionalString(_ key: String) throws -> String? {
        switch values[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw ActionError(.permanent, "argument '\(key)' must be a string")
        }
    }

    func int(_ key: String) throws -> Int {
        guard let value = try optionalInt(key) else { throw ActionError(.permanent, "argument '\(key)' is required (an integer)") }
        return value
    }

    /// Integers may arrive as numbers or, from expressions, as text.
    func optionalInt(_ key: String) throws -> Int? {
        switch values[key] {
        case nil, .null?: return nil
        case .int(let value)?: return value
        case .double(let value)? where Int(exactly: value) != nil: return Int(exactly: value)
        case .string(let text)? where Int(text) != nil: return Int(text)
        default: throw ActionError(.permanent, "argument '\(key)' must be an integer")
        }
    }

    func optionalBool(_ key: String) throws -> Bool? {
        switch values[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw ActionError(.permanent, "argument '\(key)' must be true or false")
        }
    }

    func strings(_ key: String) throws -> [String] {
        guard case .list(let items)? = values[key] else { throw ActionError(.permanent, "argument '\(key)' must be a list of strings") }
        return try items.map {
            guard case .string(let text) = $0 else { throw ActionError(.permanent, "argument '\(key)' must be a list of strings") }
            return text
        }
    }

    func maps(_ key: String) throws -> [[String: RunValue]] {
        guard case .list(let items)? = values[key] else { throw ActionError(.permanent, "argument '\(key)' must be a list of maps") }
        return try items.map {
            guard case .map(let map) = $0 else { throw ActionError(.permanent, "argument '\(key)' must be a list of maps") }
            return map
        }
    }

    func optionalMap(_ key: String) throws -> [String: RunValue]? {
        switch values[key] {
        case nil, .null?: return nil
        case .map(let map)?: return map
        default: throw ActionError(.permanent, "argument '\(key)' must be a map")
        }
    }
}

/// Turns provider and waiter errors into the engine's `ActionError` kinds, keeping the AWS code
/// and request id in the message (`AWSServiceError.description` carries both).
enum AWSStepErrors {
    static func classify(_ error: any Error, acting: Bool) -> any Error {
        switch error {
        case let error as AWSServiceError:
            switch error.category {
            // A throttled request was refused before anything changed.
            case .throttling: return ActionError(.throttling, error.description)
            // A 5xx on a mutation may or may not have been applied.
            case .transient: return ActionError(acting ? .outcomeUnknown : .transient, error.description)
            default: return ActionError(.permanent, error.description)
            }
        case let error as WaiterTimeoutDescribing: return ActionError(.timeout, error.timeoutDescription)
        case let error as WaiterFailureDescribing: return ActionError(.permanent, error.failureDescription)
        default: return error
        }
    }

    /// Runs one part of an action and classifies what it throws.
    static func run<T: Sendable>(acting: Bool = false, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw classify(error, acting: acting) }
    }
}

/// The waiter's errors are generic over the observation; these let one `catch` see them all.
protocol WaiterTimeoutDescribing { var timeoutDescription: String { get } }
protocol WaiterFailureDescribing { var failureDescription: String { get } }
extension Waiter.TimedOut: WaiterTimeoutDescribing { var timeoutDescription: String { description } }
extension Waiter.Failed: WaiterFailureDescribing { var failureDescription: String { description } }
