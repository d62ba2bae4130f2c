/// Renders XML request bodies (REST-XML services) with escaping; attributes in sorted order.
public enum XMLWriter {
    public static func render(_ node: XMLNode, declaration: Bool = false) -> String {
        var out = declaration ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" : ""
        write(node, into: &out)
        return out
    }

    private static func write(_ node: XMLNode, into out: inout String) {
        out += "<" + node.name
        for key in node.attributes.keys.sorted() {
            out += " \(key)=\"\(escape(node.attributes[key]!, attribute: true))\""
        }
        if node.children.isEmpty && node.text.isEmpty {
            out += "/>"
            return
        }
        out += ">"
        out += escape(node.text, attribute: false)
        for child in node.children { write(child, into: &out) }
        out += "</\(node.name)>"
    }

    public static func escape(_ text: String, attribute: Bool) -> String {
        // By Unicode scalar, not Character: "<" followed by a combining mark is one Character, and
        // would otherwise go out unescaped (a fuzz finding).
        guard text.unicodeScalars.contains(where: { "<>&\"'\r".unicodeScalars.contains($0) }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"" where attribute: out += "&quot;"
            case "'" where attribute: out += "&apos;"
            case "\r": out += "&#13;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension XMLNode {
    /// Builds `<name>text</name>`.
    public static func leaf(_ name: String, _ text: String) -> XMLNode {
        XMLNode(name: name, text: text)
    }
}
