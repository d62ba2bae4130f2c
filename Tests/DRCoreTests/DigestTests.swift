import DRCore
import Testing

@Suite("SHA-256 (FIPS 180-2 vectors)")
struct SHA256DigestTests {
    @Test("FIPS 180-2 test vectors", arguments: [
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func vectors(message: String, digest: String) {
        #expect(Hex.encode(SHA256Digest.hash(message)) == digest)
        #expect(Hex.encode(SHA256Digest.hash(Array(message.utf8))) == digest)
    }

    @Test("streaming in pieces, and a copy taken mid-stream, give the one-shot digest")
    func streamingAndCopying() {
        var digest = SHA256Digest()
        digest.update("abcdbcdecdefdefgefghfghig")
        var copy = digest
        digest.update(Array("hijhijkijkljklmklmnlmnomnopnopq".utf8))
        copy.update("hijhijkijkljklmklmnlmnomnopnopq")
        let expected = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        #expect(Hex.encode(digest.finalize()) == expected)
        #expect(Hex.encode(copy.finalize()) == expected)
    }

    @Test("one million 'a' (FIPS 180-2 long message)")
    func millionA() {
        let digest = SHA256Digest.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
        #expect(Hex.encode(digest) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

@Suite("HMAC-SHA256 (RFC 4231)")
struct HMACSHA256Tests {
    static let longKey = [UInt8](repeating: 0xaa, count: 131)   // longer than the 64-byte block

    // RFC 4231 §4.2–4.8 (test case 5, truncated output, does not apply).
    static let cases: [(name: String, key: [UInt8], data: [UInt8], mac: String)] = [
        ("1", [UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        ("2", Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        ("3", [UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        ("4", Array(1...25), [UInt8](repeating: 0xcd, count: 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        ("6", longKey, Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        ("7", longKey, Array(("This is a test using a larger than block-size key and a larger than block-size data. "
                              + "The key needs to be hashed before being used by the HMAC algorithm.").utf8),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]

    @Test("RFC 4231 test cases 1-4, 6 and 7", arguments: cases.indices)
    func rfc4231(index: Int) {
        let testCase = Self.cases[index]
        let hmac = HMACSHA256(key: testCase.key)
        #expect(Hex.encode(hmac.authenticationCode(for: testCase.data)) == testCase.mac, "test case \(testCase.name)")
        // The precomputed state is not consumed: the same key object gives the same MAC again.
        #expect(Hex.encode(hmac.authenticationCode(for: testCase.data)) == testCase.mac, "test case \(testCase.name), reused")
    }

    @Test("the String overloads agree with the byte overloads")
    func stringOverloads() {
        let mac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        #expect(Hex.encode(HMACSHA256.authenticationCode(for: "what do ya want for nothing?", key: Array("Jefe".utf8))) == mac)
        #expect(Hex.encode(HMACSHA256(key: Array("Jefe".utf8)).authenticationCode(for: "what do ya want for nothing?")) == mac)
    }
}

@Suite("Hex")
struct HexTests {
    @Test("every byte value round-trips and encodes as two lower-case digits")
    func roundTrip() throws {
        let bytes = (0...255).map(UInt8.init)
        let text = Hex.encode(bytes)
        #expect(text.count == 512)
        #expect(text.hasPrefix("000102") && text.hasSuffix("fdfeff"))
        #expect(try #require(Hex.decode(text)) == bytes)
        #expect(Hex.decode(text.uppercased()) == bytes)
        #expect(Hex.encode([]) == "")
        #expect(Hex.decode("") == [])
    }

    @Test("odd lengths and non-hex characters decode to nil", arguments: ["0", "abc", "0g", "zz", "0x00", " 00", "é0"])
    func invalid(text: String) {
        #expect(Hex.decode(text) == nil)
    }
}

@Suite("SecureRandom")
struct SecureRandomTests {
    @Test("two 32-byte draws have the right length and differ")
    func drawsDiffer() throws {
        let first = try SecureRandom.bytes(32)
        let second = try SecureRandom.bytes(32)
        #expect(first.count == 32)
        #expect(second.count == 32)
        #expect(first != second)
        #expect(try SecureRandom.bytes(0).isEmpty)
        #expect(try SecureRandom.bytes(1000).count == 1000)
    }
}
