import DRCore

extension Runbook {
    /// The runbook without where it came from (source path and digest, step locations): what a
    /// render → parse round trip must keep is everything else.
    var withoutOrigin: Runbook {
        var copy = self
        copy.source = RunbookSource(path: "", digest: "")
        copy.steps = steps.map { step in
            var step = step
            step.location = FileLocation()
            return step
        }
        return copy
    }
}

/// A catalogue with one action per parameter type (and the built-ins), so that round trips can
/// exercise how the loader types each argument.
enum RoundTripCatalog {
    static let catalog = ActionCatalog.builtIns.registering([
        ActionCatalog.Action("aws.rds.promote-read-replica", parameters: [
            .init("instance", .string, required: true), .init("region", .string),
        ]),
        ActionCatalog.Action("test.every-type", parameters: [
            .init("s", .string), .init("i", .int), .init("n", .number), .init("d", .duration), .init("b", .bool),
            .init("l", .list), .init("m", .map), .init("a", .any),
        ]),
    ])
}
