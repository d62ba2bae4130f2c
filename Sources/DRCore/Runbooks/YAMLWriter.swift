/// Block-style YAML, two spaces a level, built line by line for `RunbookRenderer`. Collections are
/// block style (empty ones `[]` / `{}`); map keys are sorted; scalars go through `YAMLText`.
struct YAMLWriter {
    private(set) var text = ""
    /// Under `with` and `outputs` the loader reads every string as a template: a constant string
    /// holding `${{` is written as a string literal expression, which evaluates to that text.
    private var inTemplate = false

    private static let indentation = (0..<16).map { String(repeating: "  ", count: $0) }

    mutating func line(_ indent: Int, _ content: String) {
        text += indent < Self.indentation.count ? Self.indentation[indent] : String(repeating: "  ", count: indent)
        text += content
        text += "\n"
    }

    /// `key:` with the value inline (a scalar, `[]`, `{}`) or, when `inline` is nil, on the lines
    /// that follow, one level deeper. A key too long for an implicit key is written `? key` / `:`.
    mutating func entry(_ indent: Int, _ key: String, inline: String?) {
        let rendered = YAMLText.key(key)
        let value = inline.map { " " + $0 } ?? ""
        if YAMLText.needsExplicitKey(rendered) {
            line(indent, "? " + rendered)
            line(indent, ":" + value)
        } else {
            line(indent, rendered + ":" + value)
        }
    }

    mutating func key(_ indent: Int, _ key: String) { entry(indent, key, inline: nil) }

    mutating func value(_ indent: Int, _ key: String, _ value: RunValue) {
        let inline = inline(value)
        entry(indent, key, inline: inline)
        if inline == nil { nested(indent + 1, value) }
    }

    mutating func template(_ indent: Int, _ key: String, _ template: Template) {
        if let constant = template.constant {
            inTemplate = true
            defer { inTemplate = false }
            return value(indent, key, constant)
        }
        switch template.structure {
        case .list(let items)?:
            entry(indent, key, inline: items.isEmpty ? "[]" : nil)
            for item in items { listItem(indent + 1, item) }
        case .map(let entries)?:
            entry(indent, key, inline: entries.isEmpty ? "{}" : nil)
            for name in entries.keys.sorted() { self.template(indent + 1, name, entries[name]!) }
        case nil:
            entry(indent, key, inline: YAMLText.scalar(template.sourceText ?? ""))
        }
    }

    private mutating func listItem(_ indent: Int, _ template: Template) {
        if let constant = template.constant { return listItem(indent, constant) }
        switch template.structure {
        case .list(let items)?:
            guard !items.isEmpty else { return line(indent, "- []") }
            line(indent, "-")
            for item in items { listItem(indent + 1, item) }
        case .map(let entries)?:
            guard !entries.isEmpty else { return line(indent, "- {}") }
            line(indent, "-")
            for name in entries.keys.sorted() { self.template(indent + 1, name, entries[name]!) }
        case nil:
            line(indent, "- " + YAMLText.scalar(template.sourceText ?? ""))
        }
    }

    private mutating func listItem(_ indent: Int, _ value: RunValue) {
        if let inline = inline(value) { return line(indent, "- " + inline) }
        line(indent, "-")
        nested(indent + 1, value)
    }

    /// The entries or items of a non-empty list or map.
    private mutating func nested(_ indent: Int, _ value: RunValue) {
        switch value {
        case .list(let items): for item in items { listItem(indent, item) }
        case .map(let map): for name in map.keys.sorted() { self.value(indent, name, map[name]!) }
        default: break
        }
    }

    /// A value written on its key's line; nil for a non-empty list or map.
    private func inline(_ value: RunValue) -> String? {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        // A plain YAML number reads back as this Double exactly (shortest round-trip digits).
        case .double(let number): return number.isFinite ? String(number) : YAMLText.scalar(String(number))
        case .string(let text) where inTemplate && text.contains(TemplateParser.opening):
            return YAMLText.scalar(Template.embed(.literal(.string(text))))
        case .string(let text): return YAMLText.scalar(text)
        case .duration(let seconds): return RunbookRenderer.duration(seconds)
        case .list(let items): return items.isEmpty ? "[]" : nil
        case .map(let map): return map.isEmpty ? "{}" : nil
        }
    }
}
