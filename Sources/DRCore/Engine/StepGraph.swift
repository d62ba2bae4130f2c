/// The DAG's bookkeeping for the executor, kept incrementally so that the engine's own work per
/// step does not grow with the runbook: for every step, how many of its `needs` have not settled
/// yet and which steps need it; a step whose count reaches zero becomes a *candidate* (its needs
/// and `when` are then judged once, just before it would start). Candidates come out in runbook
/// order among those available, so runs stay deterministic.
///
/// Pure value: the executor tells it when a step settles (reaches a terminal state) and asks it for
/// the next candidate.
struct StepGraph: Sendable {
    /// Step ids in runbook order; everything else is indexed by position.
    let ids: [String]
    let index: [String: Int]
    private let dependents: [[Int]]
    private var unsettledNeeds: [Int]
    private var settled: [Bool]
    private var candidates = MinHeap()

    /// `settled(id)` says whether a step is already terminal (a resumed run starts part-way).
    /// `startable(id)` says whether a step with all needs settled should be judged (pending or
    /// unknown); steps that are neither settled nor startable (waiting, running) stay put.
    init(steps: [RunbookStep], settled isSettled: (String) -> Bool, startable: (String) -> Bool) {
        ids = steps.map(\.id)
        var index: [String: Int] = [:]
        for (position, id) in ids.enumerated() where index[id] == nil { index[id] = position }
        self.index = index
        var dependents = Array(repeating: [Int](), count: steps.count)
        var unsettled = Array(repeating: 0, count: steps.count)
        settled = ids.map(isSettled)
        for (position, step) in steps.enumerated() {
            for need in step.needs {
                guard let needed = index[need] else { continue }   // the loader refuses unknown needs
                dependents[needed].append(position)
                if !settled[needed] { unsettled[position] += 1 }
            }
        }
        self.dependents = dependents
        unsettledNeeds = unsettled
        for position in ids.indices where unsettled[position] == 0 && !settled[position] && startable(ids[position]) {
            candidates.push(position)
        }
    }

    /// A step reached a terminal state: its dependents have one unsettled need fewer, and those
    /// with none left become candidates. Settling twice (a compensation after success) is a no-op.
    mutating func settle(_ id: String) {
        guard let position = index[id], !settled[position] else { return }
        settled[position] = true
        for dependent in dependents[position] {
            unsettledNeeds[dependent] -= 1
            if unsettledNeeds[dependent] == 0 && !settled[dependent] { candidates.push(dependent) }
        }
    }

    /// The next step to judge, in runbook order among the candidates.
    mutating func nextCandidate() -> String? {
        candidates.pop().map { ids[$0] }
    }

    /// Puts a candidate back (it was judged ready but could not start yet).
    mutating func returnCandidate(_ id: String) {
        if let position = index[id] { candidates.push(position) }
    }

    var hasCandidates: Bool { !candidates.isEmpty }
}

/// A binary min-heap of step positions.
private struct MinHeap: Sendable {
    private var items: [Int] = []

    var isEmpty: Bool { items.isEmpty }

    mutating func push(_ value: Int) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Int? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return first }
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count && items[left] < items[smallest] { smallest = left }
            if right < items.count && items[right] < items[smallest] { smallest = right }
            guard smallest != parent else { return first }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
