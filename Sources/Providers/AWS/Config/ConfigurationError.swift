/// A problem with the shared config/credentials files or with a configuration value.
/// `description` names the file, line and setting but never quotes a value from a file,
/// because the credentials file holds secret keys.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case malformedFile = "malformed file"
        case unreadableFile = "unreadable file"
        case profileNotFound = "profile not found"
        case invalidValue = "invalid value"
        case missingRegion = "missing region"
    }

    public let kind: Kind
    /// Safe to show: what is wrong and what was expected.
    public let message: String
    public let path: String?
    public let line: Int?

    public init(kind: Kind, message: String, path: String? = nil, line: Int? = nil) {
        self.kind = kind
        self.message = message
        self.path = path
        self.line = line
    }

    public var description: String {
        switch (path, line) {
        case let (path?, line?): return "\(path):\(line): \(message)"
        case let (path?, nil): return "\(path): \(message)"
        default: return message
        }
    }
}
