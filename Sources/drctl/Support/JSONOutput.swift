import Foundation

/// JSON on stdout, keys sorted so output is stable for scripts and tests.
enum JSONOutput {
    /// One pretty-printed document: what a command that answers once prints.
    static func print<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    /// One object on one line (JSON Lines): what a failover or switchover prints from its
    /// preflight to its summary, between the engine's event lines (same lock, so lines never
    /// interleave). Types name their snake_case keys themselves: a strategy would also rewrite
    /// dictionary keys such as step ids.
    static func line<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        OutputLock.shared.write(String(decoding: data, as: UTF8.self) + "\n")
    }
}
