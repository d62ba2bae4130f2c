import AWSProvider
import Foundation

/// The shared `config` and `credentials` files, read both ways. An error names a line of the file
/// and never quotes a value (values are secret keys); an accepted file written back in canonical
/// form reads as the same file; resolving the default profile's settings ends in values or a
/// `ConfigurationError`.
enum AWSConfigFuzzTarget {
    static let target = FuzzTarget(name: "aws-config") { bytes in
        let source = text(bytes)
        let lines = source.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }.count
        for kind in [AWSConfigFile.Kind.config, .credentials] {
            do throws(ConfigurationError) {
                let file = try AWSConfigFile.parse(source, path: "fuzz", kind: kind)
                let written = render(file)
                do {
                    let again = try AWSConfigFile.parse(written, path: "fuzz", kind: kind)
                    require(again == file, "\(kind) file \(String(reflecting: source)) written as \(String(reflecting: written)) reads differently")
                } catch {
                    require(false, "\(kind) file \(String(reflecting: source)) written as \(String(reflecting: written)) does not read: \(error)")
                }
                let shared = kind == .config ? AWSSharedConfig(config: file, credentials: nil) : AWSSharedConfig(config: nil, credentials: file)
                _ = try? AWSConfiguration(environment: [:], sharedConfig: shared)
            } catch {
                require(error.kind == .malformedFile, "error of kind \(error.kind)")
                require((error.line ?? 0) >= 1 && (error.line ?? 0) <= lines, "error at line \(error.line ?? 0) of \(lines)")
                requireQuotesNoValue(error.description, source)
            }
        }
    }

    /// The canonical text of a parsed file: one section per name, `key = value`, continuation lines
    /// indented, nested blocks as `key =` and indented `sub = value` lines.
    static func render(_ file: AWSConfigFile) -> String {
        var out = ""
        for (name, section) in file.sections.sorted(by: { "\($0.key)" < "\($1.key)" }) {
            switch (file.kind, name.kind) {
            case (.credentials, _): out += "[\(name.name)]\n"
            case (.config, .profile): out += "[profile \(name.name)]\n"
            case (.config, let kind): out += "[\(kind.rawValue) \(name.name)]\n"
            }
            for (key, value) in section.properties.sorted(by: { $0.key < $1.key }) {
                // No space after "=": a value may start with ";" or "#", which after a space would be a comment.
                out += "\(key) =\(value.replacingOccurrences(of: "\n", with: "\n  "))\n"
                for (subKey, subValue) in (section.subProperties[key] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    out += "  \(subKey) =\(subValue)\n"
                }
            }
        }
        return out
    }

    /// A value (text after `=`) long enough to be a key never appears in an error message.
    static func requireQuotesNoValue(_ message: String, _ source: String) {
        for line in source.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard value.count >= 12, !value.contains("=") else { continue }
            require(!message.contains(value), "error \(String(reflecting: message)) quotes a value")
        }
    }
}
