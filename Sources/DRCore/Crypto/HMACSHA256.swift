import Foundation
import COpenSSL

/// HMAC-SHA256 (RFC 2104) with the keyed inner and outer states computed once per key, so each
/// message costs two SHA-256 finalisations and no key schedule. SigV4 reuses one signing key for
/// every request of a day, region and service.
public struct HMACSHA256: Sendable {
    private var inner = SHA256Digest()
    private var outer = SHA256Digest()

    public init<Key: ContiguousBytes>(key: Key) {
        var block = [UInt8](repeating: 0, count: 64)
        key.withUnsafeBytes { raw in
            if raw.count > 64 {
                let hashed = SHA256Digest.hash(Array(raw))
                block.replaceSubrange(0..<hashed.count, with: hashed)
            } else {
                block.replaceSubrange(0..<raw.count, with: raw)
            }
        }
        inner.update(block.map { $0 ^ 0x36 })
        outer.update(block.map { $0 ^ 0x5c })
    }

    public func authenticationCode<Message: ContiguousBytes>(for message: Message) -> [UInt8] {
        var innerCopy = inner
        innerCopy.update(message)
        var outerCopy = outer
        outerCopy.update(innerCopy.finalize())
        return outerCopy.finalize()
    }

    public func authenticationCode(for message: [UInt8]) -> [UInt8] {
        var innerCopy = inner
        innerCopy.update(message)
        var outerCopy = outer
        outerCopy.update(innerCopy.finalize())
        return outerCopy.finalize()
    }

    public func authenticationCode(for message: String) -> [UInt8] {
        var innerCopy = inner
        innerCopy.update(message)
        var outerCopy = outer
        outerCopy.update(innerCopy.finalize())
        return outerCopy.finalize()
    }

    public static func authenticationCode<Key: ContiguousBytes>(for message: String, key: Key) -> [UInt8] {
        HMACSHA256(key: key).authenticationCode(for: message)
    }
}
