import Foundation
import COpenSSL

/// RSASSA-PKCS1-v1_5 with SHA-256 ("RS256", RFC 7518 §3.3), as Google service-account JWTs need.
/// The key is parsed once from PEM (PKCS#8 or PKCS#1); a parse error never echoes the PEM.
public final class RSASigner: @unchecked Sendable {
    // EVP_PKEY is reference counted and only read after init; signing creates its own context.
    private let key: OpaquePointer

    public init(pem: String) throws {
        let bio = pem.withCString { BIO_new_mem_buf($0, Int32(strlen($0))) }
        guard let bio else { throw CryptoError(operation: "BIO_new_mem_buf", detail: "") }
        defer { BIO_free(bio) }
        guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
            _ = OpenSSLErrorQueue.drain()
            throw CryptoError(operation: "reading the RSA private key", detail: "not a PEM private key")
        }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else {
            EVP_PKEY_free(key)
            throw CryptoError(operation: "reading the RSA private key", detail: "the key is not an RSA key")
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
        let bio = pem.withCString { BIO_new_mem_buf($0, Int32(strlen($0))) }
        guard let bio else { throw CryptoError(operation: "BIO_new_mem_buf", detail: "") }
        defer { BIO_free(bio) }
        guard let key = PEM_read_bio_PUBKEY(bio, nil, nil, nil) else {
            _ = OpenSSLErrorQueue.drain()
            throw CryptoError(operation: "reading the RSA public key", detail: "not a PEM public key")
        }
        self.key = key
    }

    deinit { EVP_PKEY_free(key) }

    public func isValid<Message: ContiguousBytes>(signature: [UInt8], for message: Message) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key) == 1 else { return false }
        let result = message.withUnsafeBytes { raw in
            EVP_DigestVerify(context, signature, signature.count,
                             raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count)
        }
        _ = OpenSSLErrorQueue.drain()
        return result == 1
    }
}
