import Foundation

/// One parsed shared `config` or `credentials` file, read the way the AWS CLI and SDKs read it:
/// https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html
///
/// - `[default]` and `[profile NAME]` in `config`; `[NAME]` in `credentials` (no prefix there).
/// - `[sso-session NAME]` and `[services NAME]` sections are kept for the settings that use them.
/// - Whole-line comments start with `#` or `;`. On a property line a comment needs whitespace
///   before it (`key = value ;note`), so `#` inside a value such as a URL fragment survives.
/// - Property names are case-insensitive (stored lower-cased, as Python's configparser does);
///   section names are case-sensitive.
/// - An indented line continues the property above it. When that property's own value is empty,
///   its indented lines are `key = value` sub-properties (`s3 =\n  endpoint_url = …`).
public struct AWSConfigFile: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case config
        case credentials
    }

    public enum SectionKind: String, Sendable, Hashable {
        case profile
        case ssoSession = "sso-session"
        case services
    }

    public struct SectionName: Sendable, Hashable, CustomStringConvertible {
        public var kind: SectionKind
        public var name: String

        public init(_ kind: SectionKind, _ name: String) {
            self.kind = kind
            self.name = name
        }

        public var description: String { "\(kind.rawValue) \(name)" }
    }

    public struct Section: Sendable, Equatable {
        public var properties: [String: String] = [:]
        /// Sub-properties of properties whose value is a nested block, keyed by property name.
        public var subProperties: [String: [String: String]] = [:]

        public init(properties: [String: String] = [:], subProperties: [String: [String: String]] = [:]) {
            self.properties = properties
            self.subProperties = subProperties
        }

        public subscript(key: String) -> String? { properties[key.lowercased()] }

        /// A setting given again replaces its whole value, nested block included (or removed).
        mutating func merge(_ other: Section) {
            for (key, value) in other.properties {
                properties[key] = value
                subProperties[key] = other.subProperties[key]
            }
        }
    }

    public let path: String
    public let kind: Kind
    public private(set) var sections: [SectionName: Section] = [:]

    public init(path: String, kind: Kind, sections: [SectionName: Section] = [:]) {
        self.path = path
        self.kind = kind
        self.sections = sections
    }

    public func section(_ kind: SectionKind, _ name: String) -> Section? {
        sections[SectionName(kind, name)]
    }

    /// Reads and parses `path`; nil when the file does not exist, which is normal.
    public static func load(path: String, kind: Kind) throws(ConfigurationError) -> AWSConfigFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(kind: .unreadableFile, message: "cannot read the file", path: path)
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path, kind: kind)
    }

    public static func parse(_ text: String, path: String, kind: Kind) throws(ConfigurationError) -> AWSConfigFile {
        var parser = Parser(file: AWSConfigFile(path: path, kind: kind))
        // Lines end at "\n", "\r\n" or "\r" (Python's universal newlines, as the AWS CLI reads). Swift
        // reads "\r\n" as one Character, so splitting on "\n" alone would keep a CRLF file as one line.
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        for (index, line) in lines.enumerated() {
            try parser.read(line, number: index + 1)
        }
        return parser.finish()
    }
}

extension AWSConfigFile {
    /// Line-by-line state: the section and property being read. Errors say what was expected
    /// and where, and never quote the line, which may be a secret key.
    private struct Parser {
        var file: AWSConfigFile
        var current: Section?
        var currentName: SectionName?
        var currentIsBareDefault = false
        var bareDefault: Section?
        var property: String?
        var propertyIsBlock = false

        mutating func read(_ line: Substring, number: Int) throws(ConfigurationError) {
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { return }

            if line.first == " " || line.first == "\t", let property, current != nil {
                try continueProperty(property, with: trimmed, number: number)
                return
            }
            if trimmed.hasPrefix("[") {
                try startSection(trimmed, number: number)
                return
            }
            try readProperty(trimmed, number: number)
        }

        private mutating func startSection(_ line: Substring, number: Int) throws(ConfigurationError) {
            finishSection()
            let header = line.strippingComment(markers: ["#", ";"], needsWhitespace: false)
            guard header.hasSuffix("]") else {
                throw error("expected a section header ending in ']'", number)
            }
            let inner = header.dropFirst().dropLast().trimmingWhitespace()
            guard !inner.isEmpty else { throw error("expected a section name inside '[ ]'", number) }
            current = Section()
            currentIsBareDefault = false
            switch file.kind {
            case .credentials:
                currentName = SectionName(.profile, String(inner))
            case .config:
                if inner == "default" {
                    currentName = SectionName(.profile, "default")
                    currentIsBareDefault = true
                } else if let name = inner.named(after: "profile") {
                    currentName = SectionName(.profile, name)
                } else if let name = inner.named(after: "sso-session") {
                    currentName = SectionName(.ssoSession, name)
                } else if let name = inner.named(after: "services") {
                    currentName = SectionName(.services, name)
                } else {
                    // The CLI ignores other sections in `config` (e.g. `[foo]` without "profile").
                    currentName = nil
                }
            }
        }

        private mutating func readProperty(_ line: Substring, number: Int) throws(ConfigurationError) {
            guard current != nil else {
                throw error("expected a section header such as [default] before the first setting", number)
            }
            let text = line.strippingComment(markers: ["#", ";"], needsWhitespace: true)
            guard let equals = text.firstIndex(of: "=") else {
                throw error("expected 'name = value'", number)
            }
            let key = text[..<equals].trimmingWhitespace().lowercased()
            guard !key.isEmpty else { throw error("expected a setting name before '='", number) }
            let value = text[text.index(after: equals)...].trimmingWhitespace()
            current?.properties[key] = String(value)
            current?.subProperties[key] = nil   // given again: the earlier nested block goes with the earlier value
            property = key
            propertyIsBlock = value.isEmpty
        }

        private mutating func continueProperty(_ key: String, with line: Substring, number: Int) throws(ConfigurationError) {
            guard propertyIsBlock else {
                // A multi-line value, joined with newlines as configparser does.
                let previous = current?.properties[key] ?? ""
                current?.properties[key] = previous + "\n" + line
                return
            }
            let text = line.strippingComment(markers: ["#", ";"], needsWhitespace: true)
            guard let equals = text.firstIndex(of: "=") else {
                throw error("expected an indented 'name = value' under '\(key)'", number)
            }
            let subKey = text[..<equals].trimmingWhitespace().lowercased()
            guard !subKey.isEmpty else { throw error("expected a setting name before '='", number) }
            let value = text[text.index(after: equals)...].trimmingWhitespace()
            current?.subProperties[key, default: [:]][subKey] = String(value)
        }

        mutating func finishSection() {
            defer {
                current = nil
                currentName = nil
                property = nil
            }
            guard let section = current, let name = currentName else { return }
            if currentIsBareDefault {
                if bareDefault == nil { bareDefault = Section() }
                bareDefault?.merge(section)
            } else {
                file.sections[name, default: Section()].merge(section)
            }
        }

        /// `[profile default]` wins over `[default]` when a `config` file has both.
        mutating func finish() -> AWSConfigFile {
            finishSection()
            let key = SectionName(.profile, "default")
            if file.sections[key] == nil, let bareDefault { file.sections[key] = bareDefault }
            return file
        }

        private func error(_ expected: String, _ number: Int) -> ConfigurationError {
            ConfigurationError(kind: .malformedFile, message: expected, path: file.path, line: number)
        }
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var slice = self
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" || last == "\r" { slice.removeLast() }
        return slice
    }

    /// `profile dev` → `dev`; nil unless the first word is `prefix` followed by whitespace.
    func named(after prefix: String) -> String? {
        guard hasPrefix(prefix) else { return nil }
        let rest = dropFirst(prefix.count)
        guard let first = rest.first, first == " " || first == "\t" else { return nil }
        let name = rest.trimmingWhitespace()
        return name.isEmpty ? nil : String(name)
    }

    /// Cuts a trailing comment. Property values keep `#`/`;` unless whitespace precedes them.
    func strippingComment(markers: Set<Character>, needsWhitespace: Bool) -> Substring {
        var previous: Character? = nil
        for index in indices {
            let character = self[index]
            if markers.contains(character), !needsWhitespace || previous == " " || previous == "\t" {
                return self[..<index].trimmingWhitespace()
            }
            previous = character
        }
        return trimmingWhitespace()
    }
}

// The files hold secret keys: descriptions name sections and setting names, never values.
extension AWSConfigFile: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "AWSConfigFile(\(path): \(sections.keys.map(\.description).sorted().joined(separator: ", ")))"
    }
    public var debugDescription: String { description }
}

extension AWSConfigFile.Section: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "Section(\(properties.keys.sorted().joined(separator: ", ")))"
    }
    public var debugDescription: String { description }
}
