import DRCore
import Foundation

/// A long-running operation as Google's APIs report it, read loosely enough for all of them:
/// Cloud SQL's `sql#operation` and GKE's Operation (`status` PENDING / RUNNING / DONE, `error`),
/// Cloud DNS changes (`status` pending / done), and `google.longrunning.Operation` (`done`, `error`).
public struct GCPOperation: Sendable, Equatable, Decodable, CustomStringConvertible {
    public let name: String?
    public let status: String?
    public let done: Bool?
    /// The operation's failure, joined from `error.message` or `error.errors[].message` (Cloud SQL).
    public let errorMessage: String?
    public let errorCode: String?
    public let targetLink: String?

    public var isDone: Bool { done == true || status?.uppercased() == "DONE" }

    public var description: String { "\(name ?? "operation") \(status ?? (done == true ? "done" : "running"))" }

    enum CodingKeys: String, CodingKey { case name, id, status, done, error, targetLink, statusMessage }

    struct ErrorBody: Decodable {
        struct Item: Decodable {
            let code: String?
            let message: String?
        }
        let code: LosslessCode?
        let message: String?
        let errors: [Item]?
    }

    /// `error.code` is a number in `google.rpc.Status`, a string in some APIs.
    struct LosslessCode: Decodable {
        let text: String
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) { text = String(number) } else { text = try container.decode(String.self) }
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? container.decodeIfPresent(String.self, forKey: .id)
        status = try container.decodeIfPresent(String.self, forKey: .status)
        done = try container.decodeIfPresent(Bool.self, forKey: .done)
        targetLink = try container.decodeIfPresent(String.self, forKey: .targetLink)
        if let error = try container.decodeIfPresent(ErrorBody.self, forKey: .error) {
            let items = error.errors ?? []
            let messages = [error.message].compactMap { $0 } + items.compactMap { $0.message }
            errorMessage = messages.isEmpty ? "failed" : messages.joined(separator: "; ")
            errorCode = error.code?.text ?? items.first?.code
        } else {
            errorMessage = nil
            errorCode = nil
        }
    }

    public init(name: String?, status: String?, done: Bool?, errorMessage: String?, errorCode: String?, targetLink: String? = nil) {
        self.name = name
        self.status = status
        self.done = done
        self.errorMessage = errorMessage
        self.errorCode = errorCode
        self.targetLink = targetLink
    }
}

/// Waits for a long-running operation with the shared `Waiter` (acceptors, backoff with jitter, a
/// deadline): done without an error is success, done with one is a typed failure
/// (`Waiter.Failed`, naming the operation and its error), anything else polls again.
public struct GCPOperationWaiter: Sendable {
    public let what: String
    public var minimumDelay: Double
    public var maximumDelay: Double
    public let clock: any EngineClock

    public init(what: String, minimumDelay: Double = 2, maximumDelay: Double = 20, clock: any EngineClock = SystemClock()) {
        self.what = what
        self.minimumDelay = minimumDelay
        self.maximumDelay = maximumDelay
        self.clock = clock
    }

    /// Polls `get` (e.g. `operations.get`) until the operation is done or `deadline` passes. `first`
    /// is the operation the mutating call returned: when it is already done, nothing is polled.
    public func wait(for first: GCPOperation? = nil, until deadline: Date,
                     get: @escaping @Sendable () async throws -> GCPOperation) async throws -> GCPOperation {
        let waiter = Waiter<GCPOperation>(what: what, minimumDelay: minimumDelay, maximumDelay: maximumDelay, clock: clock,
                                          acceptor: Self.verdict)
        if let first, first.isDone { return try await waiter.wait(until: deadline) { first } }
        return try await waiter.wait(until: deadline, observe: get)
    }

    static func verdict(_ operation: GCPOperation) -> Waiter<GCPOperation>.Verdict {
        guard operation.isDone else { return .retry }
        guard let message = operation.errorMessage else { return .success }
        return .failure("operation \(operation.name ?? "?") failed" + (operation.errorCode.map { " (\($0))" } ?? "") + ": " + message)
    }
}
