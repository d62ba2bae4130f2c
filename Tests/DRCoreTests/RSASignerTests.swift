import DRCore
import Foundation
import Testing

@Suite("RS256 signing with OpenSSL")
struct RSASignerTests {
    static let message = Array("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJkcmN0bCJ9".utf8)

    /// A fresh key pair from the openssl CLI: key.pem (PKCS#8), key-pkcs1.pem and pub.pem.
    static func withKeyPair<Result>(_ body: (TemporaryDirectory) async throws -> Result) async throws -> Result {
        try await TemporaryDirectory.with { directory in
            try await runToolChecked(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                                "-out", directory.path("key.pem")])
            try await runToolChecked(["openssl", "pkey", "-in", directory.path("key.pem"), "-pubout", "-out", directory.path("pub.pem")])
            try await runToolChecked(["openssl", "rsa", "-in", directory.path("key.pem"), "-traditional",
                                "-out", directory.path("key-pkcs1.pem")])
            return try await body(directory)
        }
    }

    @Test("a signature verifies with RSAVerifier and with openssl dgst, and matches openssl's own")
    func signAndVerify() async throws {
        try await Self.withKeyPair { directory in
            let signer = try RSASigner(pem: try directory.read("key.pem"))
            let signature = try signer.sign(Self.message)
            #expect(signature.count == 256)

            let verifier = try RSAVerifier(publicKeyPEM: try directory.read("pub.pem"))
            #expect(verifier.isValid(signature: signature, for: Self.message))
            var tampered = Self.message
            tampered[0] ^= 1
            #expect(!verifier.isValid(signature: signature, for: tampered))
            var badSignature = signature
            badSignature[10] ^= 1
            #expect(!verifier.isValid(signature: badSignature, for: Self.message))

            try Data(Self.message).write(to: URL(fileURLWithPath: directory.path("message")))
            try Data(signature).write(to: URL(fileURLWithPath: directory.path("signature")))
            let verified = try await runTool(["openssl", "dgst", "-sha256", "-verify", directory.path("pub.pem"),
                                        "-signature", directory.path("signature"), directory.path("message")])
            #expect(verified.status == 0, "\(verified.output)")
            #expect(verified.output.contains("Verified OK"))

            // PKCS#1 v1.5 is deterministic: openssl's signature is byte for byte the same.
            try await runToolChecked(["openssl", "dgst", "-sha256", "-sign", directory.path("key.pem"),
                                "-out", directory.path("openssl-signature"), directory.path("message")])
            let opensslSignature = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory.path("openssl-signature"))))
            #expect(opensslSignature == signature)
        }
    }

    @Test("a PKCS#1 ('BEGIN RSA PRIVATE KEY') key signs the same as its PKCS#8 form")
    func pkcs1Key() async throws {
        try await Self.withKeyPair { directory in
            let pkcs8 = try RSASigner(pem: try directory.read("key.pem")).sign(Self.message)
            let pkcs1PEM = try directory.read("key-pkcs1.pem")
            #expect(pkcs1PEM.contains("BEGIN RSA PRIVATE KEY"))
            #expect(try RSASigner(pem: pkcs1PEM).sign(Self.message) == pkcs8)
        }
    }

    @Test("an EC private key is refused with a CryptoError that does not quote the PEM")
    func nonRSAKey() async throws {
        try await TemporaryDirectory.with { directory in
            try await runToolChecked(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                                "-out", directory.path("ec.pem")])
            try await runToolChecked(["openssl", "pkey", "-in", directory.path("ec.pem"), "-pubout", "-out", directory.path("ec-pub.pem")])
            let pem = try directory.read("ec.pem")
            let error = try #require(throws: CryptoError.self) { try RSASigner(pem: pem) }
            Self.expectNoKeyMaterial(in: error, pem: pem)

            // RS256 verification must not accept an EC key either (no algorithm confusion).
            let publicPEM = try directory.read("ec-pub.pem")
            let verifierError = try #require(throws: CryptoError.self) { try RSAVerifier(publicKeyPEM: publicPEM) }
            Self.expectNoKeyMaterial(in: verifierError, pem: publicPEM)
        }
    }

    @Test("a passphrase-protected key is refused without prompting for the passphrase")
    func encryptedKey() async throws {
        try await TemporaryDirectory.with { directory in
            try await runToolChecked(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024",
                                "-aes-256-cbc", "-pass", "pass:hunter22", "-out", directory.path("encrypted.pem")])
            let pem = try directory.read("encrypted.pem")
            #expect(pem.contains("ENCRYPTED"))
            let error = try #require(throws: CryptoError.self) { try RSASigner(pem: pem) }
            Self.expectNoKeyMaterial(in: error, pem: pem)
        }
    }

    @Test("garbage is refused with a CryptoError that does not quote it", arguments: [
        "-----BEGIN PRIVATE KEY-----\nTm90QUtleVRoaXNJc0dhcmJhZ2VTZWNyZXRWYWx1ZQ==\n-----END PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY-----\n!!!not base64 SecretValue!!!\n-----END PRIVATE KEY-----\n",
        "SecretValue",
        "",
    ])
    func garbagePEM(pem: String) throws {
        let error = try #require(throws: CryptoError.self) { try RSASigner(pem: pem) }
        Self.expectNoKeyMaterial(in: error, pem: pem)
        #expect(!error.description.contains("SecretValue"))
        let verifierError = try #require(throws: CryptoError.self) { try RSAVerifier(publicKeyPEM: pem) }
        Self.expectNoKeyMaterial(in: verifierError, pem: pem)
    }

    static func expectNoKeyMaterial(in error: CryptoError, pem: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") && $0.count >= 8 }
        for line in body {
            #expect(!error.description.contains(line), "description quotes the PEM", sourceLocation: sourceLocation)
        }
        #expect(!error.description.contains("BEGIN"), sourceLocation: sourceLocation)
    }
}
