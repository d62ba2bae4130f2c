import Foundation
import Yams

/// Reads a runbook file and validates it completely before anything runs: YAML syntax, the shape of
/// every field, names, durations, expressions, the `needs` graph, what each expression may read, and
/// every action call against the `ActionCatalog`. All problems are reported together, each at its
/// file, line and column.
public enum RunbookLoader {
    public static let maximumFileSize = Limits.file.maximumBytes
    public static let maximumSteps = Limits.file.maximumSteps
    /// Nesting of YAML collections; runbooks need about six. The bound keeps the recursive YAML
    /// composer far from the end of the stack whatever the input.
    public static let maximumNesting = 64

    public static func load(path: String, catalog: ActionCatalog = .builtIns) throws(RunbookValidationError) -> Runbook {
        try parse(bytes: try readFile(path: path, what: "a runbook file"), path: path, catalog: catalog)
    }

    /// `limits`: `.file` for what people give drctl; `.stored` only for text drctl rendered itself
    /// and pinned in a run (`RunRecord.runbookText`, read again by `drctl resume`).
    public static func parse(text: String, path: String, catalog: ActionCatalog = .builtIns,
                             limits: Limits = .file) throws(RunbookValidationError) -> Runbook {
        try parse(bytes: Array(text.utf8), path: path, catalog: catalog, limits: limits)
    }

    public static func parse(bytes: [UInt8], path: String, catalog: ActionCatalog = .builtIns,
                             limits: Limits = .file) throws(RunbookValidationError) -> Runbook {
        let root = try compose(bytes: bytes, path: path, what: "a runbook mapping with name and steps", maximumBytes: limits.maximumBytes)
        let source = RunbookSource(path: path, digest: Hex.encode(SHA256Digest.hash(bytes)))
        var decoder = RunbookDecoder(path: path, catalog: catalog, limits: limits)
        let runbook = decoder.decode(root, source: source)
        if let runbook, decoder.problems.isEmpty { return runbook }
        throw RunbookValidationError(problems: decoder.problems)
    }

    /// Bytes → YAML tree, with the checks every drctl YAML file gets: size, UTF-8, nesting, syntax.
    static func compose(bytes: [UInt8], path: String, what: String, maximumBytes: Int = maximumFileSize) throws(RunbookValidationError) -> Node {
        func fail(_ line: Int, _ column: Int, _ message: String) -> RunbookValidationError {
            RunbookValidationError(problems: [RunbookProblem(location: FileLocation(file: path, line: line, column: column), message: message)])
        }
        guard bytes.count <= maximumBytes else { throw tooLarge(bytes.count, path: path, maximumBytes: maximumBytes) }
        // Editors on Windows start UTF-8 files with a byte order mark; it is not text (libyaml, handed
        // a decoded string, would take it for content), and dropping it keeps line 1, column 1 where it was.
        let bytes = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        let text: String
        switch SourceText.decodeUTF8(bytes) {
        case .success(let decoded): text = decoded
        case .failure(let position): throw fail(position.line, position.column, "found a byte sequence that is not UTF-8, expected UTF-8 text")
        }
        if let deep = SourceText.firstPositionDeeperThan(maximumNesting, in: text) {
            throw fail(deep.line, deep.column, "found YAML nested more than \(maximumNesting) levels deep, expected a file of ordinary depth")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, Resolver.basic)
        } catch let error as YamlError {
            let (line, column, message) = describe(error)
            throw fail(line, column, message)
        } catch {
            throw fail(1, 1, "found YAML that could not be read (\(error)), expected \(what)")
        }
        guard let root else { throw fail(1, 1, "found an empty file, expected \(what)") }
        return root
    }

    /// Reads a file for `compose`, refusing oversized or unreadable ones with a located problem.
    public static func readFile(path: String, what: String, maximumBytes: Int = maximumFileSize) throws(RunbookValidationError) -> [UInt8] {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? Int, size > maximumBytes { throw tooLarge(size, path: path, maximumBytes: maximumBytes) }
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)) else {
            throw RunbookValidationError(problems: [RunbookProblem(
                location: FileLocation(file: path, line: 1, column: 1), message: "found no readable file, expected \(what) at \(path)")])
        }
        return [UInt8](data)
    }

    private static func tooLarge(_ size: Int, path: String, maximumBytes: Int = maximumFileSize) -> RunbookValidationError {
        RunbookValidationError(problems: [RunbookProblem(
            location: FileLocation(file: path, line: 1, column: 1),
            message: "found a file of \(size) bytes, expected at most \(maximumBytes) bytes (\(maximumBytes >> 20) MiB)")])
    }

    /// Yams' errors carry libyaml's 1-based mark; keep libyaml's wording of the problem.
    private static func describe(_ error: YamlError) -> (Int, Int, String) {
        func context(_ context: YamlError.Context?) -> String {
            guard let context else { return "" }
            return " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
        }
        switch error {
        case .scanner(let ctx, let problem, let mark, _), .parser(let ctx, let problem, let mark, _),
             .composer(let ctx, let problem, let mark, _):
            return (mark.line, mark.column, "found invalid YAML: \(problem)\(context(ctx)), expected well-formed YAML")
        case .duplicatedKeysInMapping(let duplicates, let ctx):
            return (ctx.mark.line, ctx.mark.column,
                    "found duplicate key\(duplicates.count == 1 ? "" : "s") \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in a mapping, expected each key once")
        case .reader(let problem, _, _, _):
            return (1, 1, "found unreadable text: \(problem), expected UTF-8 YAML")
        default:
            return (1, 1, "found YAML that could not be read (\(error)), expected a runbook")
        }
    }
}
