import DRCore
import Foundation
import FoundationXML

/// drctl's XML parser (every Query and REST-XML response goes through it). Two invariants:
/// - an accepted document is well-formed XML: libxml2 (through FoundationXML, with entity
///   loading off) accepts it too — drctl may refuse more (DTDs, entities), never less;
/// - an accepted document round-trips: rendered by `XMLWriter` and parsed again, it is the same tree.
enum XMLFuzzTarget {
    static let target = FuzzTarget(name: "xml") { bytes in
        guard let node = try? XMLDocumentParser.parse(bytes) else { return }
        require(libxml2Accepts(bytes), "accepted XML that libxml2 refuses: \(String(reflecting: text(bytes)))")
        let rendered = XMLWriter.render(node, declaration: true)
        do {
            let again = try XMLDocumentParser.parse(rendered)
            require(again == node, "\(node) renders as \(String(reflecting: rendered)), which parses to \(again)")
        } catch {
            require(false, "\(node) renders as \(String(reflecting: rendered)), which does not parse: \(error)")
        }
    }

    static func libxml2Accepts(_ bytes: [UInt8]) -> Bool {
        let parser = XMLParser(data: Data(bytes))
        parser.shouldResolveExternalEntities = false
        return parser.parse()
    }
}
