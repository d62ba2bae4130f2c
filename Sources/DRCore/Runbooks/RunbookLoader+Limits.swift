extension RunbookLoader {
    /// How much a runbook may hold. The limits on files keep a mistaken or hostile file from
    /// costing minutes and gigabytes before it is refused; text that drctl rendered itself from a
    /// generated runbook (a failover of thousands of databases) and pinned in a run must not be
    /// refused by them when `drctl resume` reads it back, so it gets its own, larger bounds.
    public struct Limits: Sendable, Equatable {
        public var maximumBytes: Int
        public var maximumSteps: Int
        /// YAML values walked (anchors and aliases expand to this; see `LocatedYAMLDecoding`).
        public var maximumNodes: Int

        public init(maximumBytes: Int, maximumSteps: Int, maximumNodes: Int) {
            self.maximumBytes = maximumBytes
            self.maximumSteps = maximumSteps
            self.maximumNodes = maximumNodes
        }

        /// Runbook files and any text a person wrote: 1 MiB, 5,000 steps.
        public static let file = Limits(maximumBytes: 1 << 20, maximumSteps: 5000, maximumNodes: 500_000)
        /// DR plans: a plan of 10,000 databases is about 3 MB of YAML; 16 MiB and 5 million values
        /// leave room for 50,000 while a hostile file is still refused in well under a second.
        public static let plan = Limits(maximumBytes: 16 << 20, maximumSteps: 0, maximumNodes: 5_000_000)
        /// Text drctl rendered and stored with a run (`RunRecord.runbookText`): 64 MiB, 50,000 steps.
        /// The step bound also bounds validation's ancestor bit sets, built when a step reads one it
        /// needs only transitively (steps² bits: 312 MB at 50,000).
        public static let stored = Limits(maximumBytes: 64 << 20, maximumSteps: 50_000, maximumNodes: 20_000_000)
    }
}
