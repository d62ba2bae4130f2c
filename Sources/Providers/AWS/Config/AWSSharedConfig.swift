import Foundation

/// The shared `config` and `credentials` files together, as one view of profiles.
/// Paths come from `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`, defaulting to
/// `$HOME/.aws/config` and `$HOME/.aws/credentials`
/// (https://docs.aws.amazon.com/sdkref/latest/guide/file-location.html).
/// The environment is passed in, never read from the process, so tests cannot touch a real `~/.aws`;
/// without `HOME` in it, only explicitly named files are read.
public struct AWSSharedConfig: Sendable, Equatable {
    public let config: AWSConfigFile?
    public let credentials: AWSConfigFile?
    /// The paths looked at, present or not, for messages such as "profile dev not found in …".
    public let searchedPaths: [String]

    public init(config: AWSConfigFile?, credentials: AWSConfigFile?) {
        self.config = config
        self.credentials = credentials
        self.searchedPaths = [config?.path, credentials?.path].compactMap { $0 }
    }

    public init(environment: [String: String]) throws(ConfigurationError) {
        let paths = Self.paths(environment: environment)
        config = try paths.config.flatMap { path throws(ConfigurationError) in try AWSConfigFile.load(path: path, kind: .config) }
        credentials = try paths.credentials.flatMap { path throws(ConfigurationError) in
            try AWSConfigFile.load(path: path, kind: .credentials)
        }
        searchedPaths = [paths.config, paths.credentials].compactMap { $0 }
    }

    public static func paths(environment: [String: String]) -> (config: String?, credentials: String?) {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
        func resolve(_ variable: String, default file: String) -> String? {
            if let explicit = environment[variable], !explicit.isEmpty {
                return expandingTilde(explicit, home: home)
            }
            return home.map { "\($0)/.aws/\(file)" }
        }
        return (resolve("AWS_CONFIG_FILE", default: "config"), resolve("AWS_SHARED_CREDENTIALS_FILE", default: "credentials"))
    }

    private static func expandingTilde(_ path: String, home: String?) -> String {
        guard path == "~" || path.hasPrefix("~/"), let home else { return path }
        return home + path.dropFirst()
    }

    /// The profile merged from both files; the credentials file wins for keys it has.
    public func profile(named name: String) -> AWSProfile? {
        let fromConfig = config?.section(.profile, name)
        let fromCredentials = credentials?.section(.profile, name)
        guard fromConfig != nil || fromCredentials != nil else { return nil }
        var merged = fromConfig ?? AWSConfigFile.Section()
        if let fromCredentials { merged.merge(fromCredentials) }
        return AWSProfile(name: name, section: merged)
    }

    /// A `[services NAME]` section, which only the `config` file may hold.
    public func services(named name: String) -> AWSConfigFile.Section? {
        config?.section(.services, name)
    }
}

/// One profile's settings. Lookup is case-insensitive on the setting name.
public struct AWSProfile: Sendable, Equatable {
    public let name: String
    public let section: AWSConfigFile.Section

    public init(name: String, section: AWSConfigFile.Section) {
        self.name = name
        self.section = section
    }

    /// The value of `key`, or nil when absent or empty.
    public subscript(key: String) -> String? {
        guard let value = section[key], !value.isEmpty else { return nil }
        return value
    }
}

// Values may be secret keys: descriptions show names only.
extension AWSSharedConfig: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "AWSSharedConfig(\(searchedPaths.joined(separator: ", ")))" }
    public var debugDescription: String { description }
}

extension AWSProfile: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "profile \(name) \(section)" }
    public var debugDescription: String { description }
}
