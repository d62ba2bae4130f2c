import DRCore
import Testing

/// Inputs the `xml` fuzz target found accepted although they are not well-formed XML (libxml2
/// refuses each of them): the parser must refuse them too, so that a corrupted or truncated
/// response is an error rather than a different value.
@Suite("XML parser refuses what is not well-formed XML")
struct XMLWellFormednessTests {
    @Test("malformed documents are refused", arguments: [
        ("<a/><!-- unterminated", "a comment after the root that never ends"),
        ("<a><!--></a>", "a comment that ends inside its own opening"),
        ("<a><!-- x -- y --></a>", "'--' inside a comment"),
        ("<a/><?pi unterminated", "a processing instruction that never ends"),
        ("<a/><!DOCTYPE a>", "a DOCTYPE after the root element"),
        ("<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>", "a DOCTYPE with an internal subset"),
        ("<a><?xml version=\"1.0\"?></a>", "an XML declaration inside the document"),
        ("<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>", "an encoding that the bytes are not in"),
        ("<?xml encoding=\"UTF-8\"?><a/>", "a declaration without a version"),
        ("<a<b>x</a<b>", "a '<' inside an element name"),
        ("<1a/>", "a name starting with a digit"),
        ("<a:/>", "a qualified name with an empty local part"),
        ("<a x=\"1\"y=\"2\"/>", "attributes without whitespace between them"),
        ("<a x=\"1\" x=\"2\"/>", "an attribute given twice"),
        ("<a x=\"<\"/>", "'<' inside an attribute value"),
        ("<a>]]></a>", "']]>' in character data"),
        ("<a>&#0;</a>", "a reference to NUL"),
        ("<a>&#xFFFE;</a>", "a reference to a non-character"),
        ("<a>&#+65;</a>", "a signed decimal reference"),
        ("<a>&#x+41;</a>", "a signed hexadecimal reference"),
        ("<a>&#X41;</a>", "an upper-case X in a hexadecimal reference"),
        ("<a>\u{1}</a>", "a C0 control character in text"),
        ("<a><!x></a>", "markup that is neither a comment nor CDATA"),
    ])
    func refused(document: String, what: String) {
        #expect(throws: XMLDocumentParser.ParseError.self, "\(what)") { try XMLDocumentParser.parse(document) }
    }

    /// "<" or "&" followed by a combining mark is one Swift Character: it must still be escaped,
    /// or what drctl writes would not parse (a fuzz finding).
    @Test func markupFollowedByACombiningMarkIsEscapedAndReadsBack() throws {
        let value = "<\u{349}B\"&\u{301}'"
        let node = XMLNode(name: "a", attributes: ["y": value], children: [.leaf("b", value)])
        let root = try XMLDocumentParser.parse(Array(XMLWriter.render(node, declaration: true).utf8))
        #expect(root.attributes["y"] == value)
        #expect(root.string("b") == value)
    }

    @Test func invalidUTF8IsRefusedNotReplaced() {
        let bytes = Array("<a>".utf8) + [0xC3, 0x28] + Array("</a>".utf8)
        #expect(throws: XMLDocumentParser.ParseError.self) { try XMLDocumentParser.parse(bytes) }
    }

    @Test func wellFormedDocumentsStillParse() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("""
        <?xml version="1.0" encoding="utf-8" standalone="yes"?>
        <!-- c --><?pi data?><r:Root xmlns:r="urn:x" k='v &#65;&#x42;'><a>]]&gt; x</a><?pi?><b/><c>&#x10000;</c></r:Root>
        <!-- after -->
        """.utf8)
        let root = try XMLDocumentParser.parse(bytes)
        #expect(root.name == "Root")
        #expect(root.attributes["k"] == "v AB")
        #expect(root.string("a") == "]]> x")
        #expect(root.string("c") == "\u{10000}")
    }
}
