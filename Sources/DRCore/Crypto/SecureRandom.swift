import Foundation
import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's DRBG (seeded from the OS).
public enum SecureRandom {
    public static func bytes(_ count: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBytes { raw in
            RAND_bytes(raw.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(count))
        }
        guard ok == 1 else { throw CryptoError(operation: "RAND_bytes", detail: OpenSSLErrorQueue.drain()) }
        return out
    }
}
