import Yams

/// The `needs` graph (unique ids, known targets, no self-dependency, no cycle) and what each
/// expression may read: declared inputs, and only steps that surely finished before the reader runs.
extension RunbookDecoder {
    mutating func checkGraph(_ steps: [DecodedStep]) {
        stepIndex = [:]
        for (index, decoded) in steps.enumerated() {
            let id = decoded.step.id
            if let first = stepIndex[id] {
                let line = steps[first].idNode?.mark?.line ?? steps[first].step.location.line
                problem(decoded.idNode, "found duplicate step id '\(id)', expected ids to be unique (first used at line \(line))")
            } else {
                stepIndex[id] = index
            }
        }
        // Edges to known steps, with the node that declared each (for locating a cycle).
        var edges: [[(target: Int, node: Node)]] = Array(repeating: [], count: steps.count)
        for (index, decoded) in steps.enumerated() {
            for need in decoded.needs {
                if need.id == decoded.step.id {
                    problem(need.node, "found step '\(need.id)' in its own needs, expected other steps' ids")
                } else if let target = stepIndex[need.id] {
                    edges[index].append((target, need.node))
                } else {
                    problem(need.node, "found unknown step '\(need.id)' in needs, expected the id of a step in this runbook\(NameSuggestions.hint(for: need.id, among: stepIndex.keys))")
                }
            }
        }
        guard let order = topologicalOrder(edges, steps) else { return }
        graph = NeedsGraph(order: order, targets: edges.map { $0.map(\.target) })
    }

    /// Steps in an order where each comes after everything it needs, or nil after reporting each cycle.
    private mutating func topologicalOrder(_ edges: [[(target: Int, node: Node)]], _ steps: [DecodedStep]) -> [Int]? {
        enum Mark { case unvisited, onPath, done }
        var marks = [Mark](repeating: .unvisited, count: edges.count)
        var order: [Int] = []
        var foundCycle = false
        // Iterative depth-first search: a 5,000-step chain must not recurse 5,000 deep.
        for start in edges.indices where marks[start] == .unvisited {
            var path: [(node: Int, nextEdge: Int)] = [(start, 0)]
            marks[start] = .onPath
            while let top = path.last {
                if top.nextEdge < edges[top.node].count {
                    path[path.count - 1].nextEdge += 1
                    let edge = edges[top.node][top.nextEdge]
                    switch marks[edge.target] {
                    case .unvisited:
                        marks[edge.target] = .onPath
                        path.append((edge.target, 0))
                    case .onPath:
                        foundCycle = true
                        let members = path.map(\.node).drop { $0 != edge.target }
                        let names = (members + [edge.target]).map { steps[$0].step.id }
                        problem(edge.node, "found a cycle in needs: \(names.joined(separator: " → ")), expected steps to form a DAG")
                    case .done:
                        break
                    }
                } else {
                    marks[top.node] = .done
                    order.append(top.node)
                    path.removeLast()
                }
            }
        }
        return foundCycle ? nil : order
    }

    mutating func checkPendingExpressions(_ steps: [DecodedStep]) {
        for pending in pending {
            for reference in pending.expression.references {
                let at = shifted(pending.origin, by: reference.column)
                let path = reference.path
                switch path[0] {
                case "inputs":
                    if inputTypes[path[1]] == nil {
                        let declared = inputTypes.keys.sorted()
                        let expected = declared.isEmpty ? "an input declared under inputs (none are)" : "one of the declared inputs \(declared.joined(separator: ", "))"
                        problem(at: at, "found unknown input '\(path[1])', expected \(expected)\(NameSuggestions.hint(for: path[1], among: declared))")
                    }
                case "steps":
                    checkStepReference(path[1], from: pending, at: at, steps)
                default:
                    break  // run.* fields are checked by the parser.
                }
            }
        }
    }

    private mutating func checkStepReference(_ id: String, from pending: PendingExpression, at location: FileLocation,
                                             _ steps: [DecodedStep]) {
        guard let target = stepIndex[id] else {
            problem(at: location, "found unknown step '\(id)', expected the id of a step in this runbook\(NameSuggestions.hint(for: id, among: stepIndex.keys))")
            return
        }
        guard let owner = pending.owner else { return }  // Run outputs are read after every step.
        let ownerId = steps[owner].step.id
        if target == owner {
            if !pending.mayReadOwner {
                problem(at: location, "found step '\(id)' reading itself, expected a step listed in its needs (only compensate may read its own step)")
            }
            return
        }
        guard graph != nil else { return }  // A cycle was reported; reachability means nothing.
        if !graph!.isAncestor(target, of: owner) {
            problem(at: location, "found a reference to step '\(id)', which step '\(ownerId)' does not need, expected a step in its needs (directly or transitively) so that it surely ran before")
        }
    }
}

/// The acyclic `needs` graph, answering "does this step surely run after that one?". Most
/// references read a step named in the reader's own `needs`; only for the others are ancestor
/// sets built, as bit sets (a 5,000-step chain costs 5,000 × 79 words, not 12.5 M set inserts),
/// so a generated runbook of 30,000 steps whose steps read what they directly need does not pay
/// steps² bits (112 MB) for them.
struct NeedsGraph {
    /// Steps in an order where each comes after everything it needs.
    let order: [Int]
    /// The steps each step needs directly, by index.
    let targets: [[Int]]
    private var directNeeds: [Set<Int>]?
    private var ancestors: [[UInt64]]?

    init(order: [Int], targets: [[Int]]) {
        self.order = order
        self.targets = targets
    }

    mutating func isAncestor(_ target: Int, of owner: Int) -> Bool {
        if directNeeds == nil { directNeeds = targets.map(Set.init) }
        if directNeeds![owner].contains(target) { return true }
        if ancestors == nil { ancestors = Self.ancestorSets(order: order, targets: targets) }
        return ancestors![owner][target / 64] & (1 << UInt64(target % 64)) != 0
    }

    private static func ancestorSets(order: [Int], targets: [[Int]]) -> [[UInt64]] {
        let words = (targets.count + 63) / 64
        var sets = [[UInt64]](repeating: [UInt64](repeating: 0, count: words), count: targets.count)
        for index in order {
            for target in targets[index] {
                sets[index][target / 64] |= 1 << UInt64(target % 64)
                for word in 0..<words { sets[index][word] |= sets[target][word] }
            }
        }
        return sets
    }
}
