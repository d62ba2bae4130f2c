@testable import DRCore
import Foundation
import Testing

/// The journal's fast detail reader must never answer differently from `JSONDecoder`, which it
/// only speeds up: the `json` fuzz target found JSON it accepted and `JSONDecoder` refuses.
@Suite("Journal detail reader agrees with JSONDecoder")
struct JournalDetailDecoderTests {
    @Test("text JSON does not allow is refused", arguments: [
        #"{"a":{"int":{"_0":+1}}}"#,
        #"{"a":{"int":{"_0":01}}}"#,
        #"{"a":{"double":{"_0":.5}}}"#,
        #"{"a":{"double":{"_0":1.}}}"#,
        #"{"a":{"double":{"_0":1e}}}"#,
        #"{"a":{"double":{"_0":-}}}"#,
        "{\"a\":{\"string\":{\"_0\":\"tab\tinside\"}}}",
        "{\"a\":{\"string\":{\"_0\":\"nul\u{0}inside\"}}}",
        #"{"b":{"double":{"_0":1.5e-001000000000000000}}}"#,
    ])
    func refusedLikeJSONDecoder(json: String) {
        let data = Data(json.utf8)
        #expect((try? RunValueJSON.makeDecoder().decode([String: RunValue].self, from: data)) == nil, "JSONDecoder refuses it")
        #expect(JournalDetailDecoder.decode([data]) == nil)
    }

    @Test func invalidUTF8InAStringIsRefusedNotReplaced() {
        let data = Data(#"{"a":{"string":{"_0":""#.utf8) + Data([0xC3, 0x28]) + Data(#""}}}"#.utf8)
        #expect(JournalDetailDecoder.decode([data]) == nil)
    }

    @Test func whatTheStoreWritesStillReads() throws {
        let values: [String: RunValue] = ["s": .string("é\n\"\u{1}\u{1F600}"), "i": .int(-42), "d": .double(1.5e-3), "z": .double(-0.0),
                                          "inf": .duration(.infinity), "l": .list([.null, .bool(true)]), "m": .map(["k": .int(0)])]
        let text = try RunValueJSON.encode(values)
        let decoded = try #require(JournalDetailDecoder.decode([Data(text.utf8)])?.first)
        #expect(decoded == values)
    }
}
