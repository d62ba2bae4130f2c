extension Result where Failure == any Error {
    /// `Result(catching:)` for async work: `async let read = Result.catching { try await … }`
    /// starts a call whose failure is a value to report, not an error that ends the caller.
    public static func catching(_ body: () async throws -> Success) async -> Result {
        do {
            return .success(try await body())
        } catch {
            return .failure(error)
        }
    }
}
