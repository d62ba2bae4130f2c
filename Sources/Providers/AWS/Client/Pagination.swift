/// Follows a paginated operation to the end: `fetch` gets the previous page's token (nil first)
/// and returns items and the next token. Stops on a missing or empty token, and refuses a token
/// that repeats (a service bug that would otherwise loop forever).
public func collectPages<Item: Sendable>(maximumPages: Int = 10_000,
                                         _ fetch: (String?) async throws -> (items: [Item], next: String?)) async throws -> [Item] {
    var items: [Item] = []
    var token: String?
    var seen: Set<String> = []
    for _ in 0..<maximumPages {
        let page = try await fetch(token)
        items.append(contentsOf: page.items)
        guard let next = page.next, !next.isEmpty else { return items }
        guard seen.insert(next).inserted else { throw PaginationError(reason: "the service repeated page token") }
        token = next
    }
    throw PaginationError(reason: "more than \(maximumPages) pages")
}

public struct PaginationError: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public var description: String { "pagination stopped: \(reason)" }
}
