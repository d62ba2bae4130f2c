/// A parsed XML element: enough of XML for AWS responses (elements, attributes, text, CDATA,
/// entities), with namespaces reduced to local names because AWS documents use one default namespace.
public struct XMLNode: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var attributes: [String: String]
    public var children: [XMLNode]
    /// The element's own character data (text and CDATA directly inside it), concatenated.
    public var text: String

    public init(name: String, attributes: [String: String] = [:], children: [XMLNode] = [], text: String = "") {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// The first child element named `name`.
    public func child(_ name: String) -> XMLNode? {
        children.first { $0.name == name }
    }

    /// Every child element named `name`.
    public func children(_ name: String) -> [XMLNode] {
        children.filter { $0.name == name }
    }

    /// Follows a path of child names: `node["DescribeDBInstancesResult", "DBInstances"]`.
    public subscript(_ path: String...) -> XMLNode? {
        var node: XMLNode? = self
        for name in path { node = node?.child(name) }
        return node
    }

    /// The trimmed text of the child `name`, nil when absent.
    public func string(_ name: String) -> String? {
        child(name).map(\.text)
    }

    /// Items of an AWS list: `<Parent><member>…</member></Parent>` or a flattened list.
    public func list(_ name: String, member: String = "member") -> [XMLNode] {
        child(name)?.children(member) ?? []
    }

    public var description: String { XMLWriter.render(self) }
}
