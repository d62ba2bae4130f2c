/// Typed reads of an action's `with` arguments at run time (what expressions produced), with
/// errors that name the argument. Providers extend it with their own kinds (RDS tags, Google
/// resource names).
public struct ActionArguments: Sendable {
    public let values: [String: RunValue]

    public init(_ invocation: ActionInvocation) { values = invocation.arguments }
    public init(values: [String: RunValue]) { self.values = values }

    public func string(_ key: String) throws -> String {
        guard let value = try optionalString(key) else { throw invalid(key, "a non-empty string") }
        return value
    }

    /// nil for absent, null or empty.
    public func optionalString(_ key: String) throws -> String? {
        switch values[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text.isEmpty ? nil : text
        default: throw invalid(key, "a string")
        }
    }

    public func int(_ key: String) throws -> Int? {
        switch values[key] {
        case nil, .null?: return nil
        case .int(let value)?: return value
        case .double(let value)?: if let exact = Int(exactly: value) { return exact }; throw invalid(key, "an integer")
        case .string(let text)?: if let value = Int(text) { return value }; throw invalid(key, "an integer")
        default: throw invalid(key, "an integer")
        }
    }

    public func bool(_ key: String) throws -> Bool? {
        switch values[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case .string("true")?: return true
        case .string("false")?: return false
        default: throw invalid(key, "true or false")
        }
    }

    /// A list of non-empty strings; a single string counts as a list of one.
    public func strings(_ key: String) throws -> [String] {
        switch values[key] {
        case .list(let items)?:
            return try items.map { item in
                guard case .string(let text) = item, !text.isEmpty else { throw invalid(key, "a list of non-empty strings") }
                return text
            }
        case .string(let text)? where !text.isEmpty: return [text]
        default: throw invalid(key, "a list of non-empty strings")
        }
    }

    public func invalid(_ key: String, _ expected: String) -> ActionError {
        ActionError(.permanent, "argument '\(key)' must be \(expected)")
    }
}

extension Dictionary where Key == String, Value == RunValue {
    /// An argument for `describe` (no validation there: it only prints): `fallback` when absent or null.
    public func argumentText(_ key: String, _ fallback: String = "?") -> String {
        guard let value = self[key], value != .null else { return fallback }
        return value.description
    }
}
