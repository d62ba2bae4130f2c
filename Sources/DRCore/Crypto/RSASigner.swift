import Foundation
import COpenSSL

/// RSASSA-PKCS1-v1_5 with SHA-256 ("RS256", RFC 7518 §3.3), as Google service-account JWTs need.
/// The key is parsed once from PEM (PKCS#8 or PKCS#1); a parse error never echoes the PEM.
public final class RSASigner: @unchecked Sendable {
    // EVP_PKEY is reference counted and only read after init; signing creates its own context.
    private let key: OpaquePointer

    public init(pem: String) throws {
        let key = try PEMKeyReader.read(pem, operation: "reading the RSA private key", expecting: "not a PEM private key") {
            // A passphrase callback that fails at once: without one, OpenSSL's default callback prompts
            // "Enter PEM pass phrase:" on the terminal and blocks a non-interactive run.
            PEM_read_bio_PrivateKey($0, nil, { _, _, _, _ in -1 }, nil)
        }
        self.key = key
    }

    deinit { EVP_PKEY_free(key) }

    public func sign<Message: ContiguousBytes>(_ message: Message) throws -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw CryptoError(operation: "EVP_MD_CTX_new", detail: "") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1 else {
            throw CryptoError(operation: "EVP_DigestSignInit", detail: OpenSSLErrorQueue.drain())
        }
        return try message.withUnsafeBytes { raw -> [UInt8] in
            let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self)
            var length = 0
            guard EVP_DigestSign(context, nil, &length, base, raw.count) == 1 else {
                throw CryptoError(operation: "EVP_DigestSign", detail: OpenSSLErrorQueue.drain())
            }
            var signature = [UInt8](repeating: 0, count: length)
            guard EVP_DigestSign(context, &signature, &length, base, raw.count) == 1 else {
                throw CryptoError(operation: "EVP_DigestSign", detail: OpenSSLErrorQueue.drain())
            }
            return Array(signature.prefix(length))
        }
    }
}

/// Verifies RS256 signatures with a public key (PEM). Used by tests and by JWT checks.
public final class RSAVerifier: @unchecked Sendable {
    private let key: OpaquePointer

    public init(publicKeyPEM pem: String) throws {
        let key = try PEMKeyReader.read(pem, operation: "reading the RSA public key", expecting: "not a PEM public key") {
            PEM_read_bio_PUBKEY($0, nil, { _, _, _, _ in -1 }, nil)
        }
        self.key = key
    }

    deinit { EVP_PKEY_free(key) }

    public func isValid<Message: ContiguousBytes>(signature: [UInt8], for message: Message) -> Bool {
        // A failed verification leaves reasons on the thread's error queue; never let them leak
        // into the next, unrelated OpenSSL error message.
        defer { _ = OpenSSLErrorQueue.drain() }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key) == 1 else { return false }
        let result = message.withUnsafeBytes { raw in
            EVP_DigestVerify(context, signature, signature.count,
                             raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count)
        }
        return result == 1
    }
}

/// Parses one PEM key and insists that it is RSA (RS256 must not accept an EC or Ed25519 key).
enum PEMKeyReader {
    static func read(_ pem: String, operation: String, expecting: String,
                     _ parse: (OpaquePointer) -> OpaquePointer?) throws -> OpaquePointer {
        // BIO_new_mem_buf does not copy: the bytes must outlive the parse, so parse inside the
        // closure that owns them (a pointer from withCString is dead once that closure returns).
        let bytes = Array(pem.utf8)
        guard !bytes.isEmpty else { throw CryptoError(operation: operation, detail: expecting) }
        let parsed: OpaquePointer? = try bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
                throw CryptoError(operation: "BIO_new_mem_buf", detail: "")
            }
            defer { BIO_free(bio) }
            return parse(bio)
        }
        // The queue may name the failing decoder but never holds key bytes; it is dropped anyway
        // so that an unrelated later error does not report these reasons.
        _ = OpenSSLErrorQueue.drain()
        guard let key = parsed else { throw CryptoError(operation: operation, detail: expecting) }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else {
            EVP_PKEY_free(key)
            throw CryptoError(operation: operation, detail: "the key is not an RSA key")
        }
        return key
    }
}
