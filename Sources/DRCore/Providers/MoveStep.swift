/// Where a provider's step sits in a move. Steps of every provider meet in one DAG through these
/// shared phases — capacity up → fence → catch up → promote → data checks → traffic → summary —
/// and `MoveComposer` wires the needs across providers:
/// - `capacity` and `evidence` need nothing: capacity that fails to come up must not keep the
///   service from a writable primary, and evidence is for the report;
/// - `fence`, `catchUp`, `promote` and `dataCheck` are chained by their provider, per resource
///   (a database is promoted after *its* fence);
/// - `afterPromotion` needs every promotion (a secret made standalone cannot go back);
/// - `traffic` needs every promotion and every data check, of every provider;
/// - the closing summary needs everything.
public enum MovePhase: Sendable, Equatable {
    case capacity, fence, catchUp, promote, dataCheck, afterPromotion, evidence, traffic

    /// The runbook lists steps in these groups, in this order; within a group, providers in their
    /// registration order and each provider's steps as it gave them.
    var group: Int {
        switch self {
        case .capacity: 0
        case .fence, .catchUp, .promote, .dataCheck: 1
        case .afterPromotion: 2
        case .evidence: 3
        case .traffic: 4
        }
    }
}

/// One step a provider contributes to a move.
public struct MoveStep: Sendable {
    public var step: RunbookStep
    public var phase: MovePhase

    public init(_ step: RunbookStep, phase: MovePhase) {
        self.step = step
        self.phase = phase
    }
}

/// Step ids of a generated runbook: `fence-orders`, `scale-dr-workers` — lower-case, [a-z0-9-], at
/// most 60 characters — unique across every provider's steps (`shop/db` and `shop-db` give
/// `promote-shop-db` and `promote-shop-db-2`).
public struct StepIdentifiers: Sendable {
    private var used: Set<String> = []

    public init(reserved: [String] = []) { used = Set(reserved) }

    public mutating func make(_ parts: String...) -> String { unique(Self.slug(parts)) }

    public mutating func unique(_ id: String) -> String {
        var candidate = id, counter = 1
        while used.contains(candidate) {
            counter += 1
            candidate = "\(id.prefix(60 - String(counter).count - 1))-\(counter)"
        }
        used.insert(candidate)
        return candidate
    }

    public static func slug(_ parts: [String]) -> String {
        var id = ""
        var lastWasDash = true   // no leading dash
        for character in parts.joined(separator: "-").lowercased() {
            // ASCII only: `isLetter`/`isNumber` also hold for é, 账, ½ — ids a runbook file refuses.
            if character.isASCII && (character.isLetter || character.isNumber) {
                id.append(character)
                lastWasDash = false
            } else if !lastWasDash {
                id.append("-")
                lastWasDash = true
            }
        }
        while id.hasSuffix("-") { id.removeLast() }
        return String(id.prefix(60))
    }
}
