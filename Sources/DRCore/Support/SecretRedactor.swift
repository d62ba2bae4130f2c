import Foundation

/// Removes secrets from text that drctl keeps or shows (command output, error messages): values
/// it was told are secret, credentials in URLs, `password=`-style pairs, AWS secret keys and
/// bearer tokens. Journals, reports and logs only ever receive redacted text.
public struct SecretRedactor: Sendable {
    public static let mask = "[REDACTED]"
    private let secrets: [String]

    /// `secrets`: literal values to hide wherever they appear (values shorter than 4 characters
    /// are ignored: masking "a" would destroy the text and protect nothing).
    public init(secrets: [String] = []) {
        self.secrets = secrets.filter { $0.count >= 4 }.sorted { $0.count > $1.count }
    }

    /// Names whose values are treated as secret (environment variables, `with` keys).
    public static func isSecretName(_ name: String) -> Bool {
        let upper = name.uppercased()
        return ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "PRIVATE_KEY", "API_KEY", "APIKEY", "ACCESS_KEY"]
            .contains { upper.contains($0) }
    }

    private static let patterns: [(NSRegularExpression, String)] = {
        let rules: [(String, String)] = [
            // scheme://user:password@host
            (#"([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+):[^@\s/]+@"#, "$1:\(mask)@"),
            // password=..., secret: ..., token=...
            (#"(?i)\b([a-z0-9_-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key)[a-z0-9_-]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&]+)"#, "$1$2\(mask)"),
            // Authorization: Bearer xyz / Basic xyz
            (#"(?i)\b(bearer|basic)\s+[a-z0-9._~+/=-]{8,}"#, "$1 \(mask)"),
            // AWS access key ids
            (#"\b(AKIA|ASIA)[A-Z0-9]{16}\b"#, mask),
        ]
        return rules.map { (try! NSRegularExpression(pattern: $0.0), $0.1) }
    }()

    public func redact(_ text: String) -> String {
        var result = text
        for secret in secrets { result = result.replacingOccurrences(of: secret, with: Self.mask) }
        for (pattern, template) in Self.patterns {
            let range = NSRange(result.startIndex..., in: result)
            result = pattern.stringByReplacingMatches(in: result, range: range, withTemplate: template)
        }
        return result
    }
}
