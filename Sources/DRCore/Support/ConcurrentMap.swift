extension Collection where Element: Sendable {
    /// `transform` of every element at once (one child task each), results in the collection's
    /// order: the reads of a preflight or a posture go out together, one round trip of latency.
    public func concurrentMap<T: Sendable>(_ transform: @escaping @Sendable (Element) async -> T) async -> [T] {
        await withTaskGroup(of: (Int, T).self) { group in
            for (index, element) in enumerated() { group.addTask { (index, await transform(element)) } }
            var results: [Int: T] = [:]
            for await (index, result) in group { results[index] = result }
            return (0..<count).compactMap { results[$0] }
        }
    }
}
