import Foundation
import COpenSSL

/// SHA-256 over OpenSSL. A value type that can be copied mid-stream: HMAC keeps a precomputed
/// inner and outer state and copies them per message instead of re-hashing the padded key.
public struct SHA256Digest: Sendable {
    public static let byteCount = 32
    private var context = SHA256_CTX()

    public init() {
        SHA256_Init(&context)
    }

    public mutating func update<Bytes: ContiguousBytes>(_ bytes: Bytes) {
        bytes.withUnsafeBytes { raw in
            _ = SHA256_Update(&context, raw.baseAddress, raw.count)
        }
    }

    /// Non-generic overload: generic calls across modules are not specialised.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            _ = SHA256_Update(&context, raw.baseAddress, raw.count)
        }
    }

    public mutating func update(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            _ = SHA256_Update(&context, utf8.baseAddress, utf8.count)
        }
    }

    /// Finishes the digest. The value may not be updated afterwards.
    public mutating func finalize() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.byteCount) { buffer, count in
            _ = SHA256_Final(buffer.baseAddress, &context)
            count = Self.byteCount
        }
    }

    public static func hash<Bytes: ContiguousBytes>(_ bytes: Bytes) -> [UInt8] {
        var digest = SHA256Digest()
        digest.update(bytes)
        return digest.finalize()
    }

    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var digest = SHA256Digest()
        digest.update(bytes)
        return digest.finalize()
    }

    public static func hash(_ string: String) -> [UInt8] {
        var digest = SHA256Digest()
        digest.update(string)
        return digest.finalize()
    }
}

