/// One problem in a runbook: where it is and what was found against what was expected.
public struct RunbookProblem: Sendable, Equatable, CustomStringConvertible {
    public var location: FileLocation
    public var message: String

    public init(location: FileLocation, message: String) {
        self.location = location
        self.message = message
    }

    /// `file:line:col: message`, the form editors and CI annotate.
    public var description: String { "\(location): \(message)" }
}

/// Every problem found in a runbook, not only the first, ordered by position. Safe to print: it
/// quotes the runbook's own text, never values supplied at run time.
public struct RunbookValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [RunbookProblem]

    public init(problems: [RunbookProblem]) {
        self.problems = problems.sorted {
            ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column)
        }
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
