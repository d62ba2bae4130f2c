import Foundation

extension IAMPolicyDocument {
    /// The account placeholder the terraform rendering replaces by the caller's account.
    public static let terraformAccountPlaceholder = "000000000000"

    /// The policy as a terraform `aws_iam_policy_document` data source named `name`, with the
    /// account and partition taken from the deploying identity (`aws_caller_identity`,
    /// `aws_partition`), so one file serves every account. Build the document for
    /// `terraformAccountPlaceholder`. `header` lines become comments at the top.
    public func terraform(name: String, header: [String]) -> String {
        func value(_ text: String) -> String {
            // `${` and `%{` start interpolations in HCL strings; IAM policy variables must stay literal.
            var escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "${", with: "$${").replacingOccurrences(of: "%{", with: "%%{")
            for partition in ["aws-us-gov", "aws-cn", "aws"] where escaped.hasPrefix("arn:\(partition):") {
                escaped = "arn:${data.aws_partition.\(name).partition}:" + escaped.dropFirst("arn:\(partition):".count)
                break
            }
            escaped = escaped.replacingOccurrences(of: ":\(Self.terraformAccountPlaceholder):",
                                                   with: ":${data.aws_caller_identity.\(name).account_id}:")
            return "\"" + escaped + "\""
        }
        func list(_ items: [String], indent: String) -> String {
            if items.count == 1 { return "[" + value(items[0]) + "]" }
            return "[\n" + items.map { indent + "  " + value($0) + "," }.joined(separator: "\n") + "\n" + indent + "]"
        }
        // As `terraform fmt` writes them: the `=` of consecutive one-line attributes aligned; an
        // attribute whose value spans lines stands alone.
        func attributes(_ pairs: [(String, String)], indent: String) -> [String] {
            var out: [String] = [], group: [(String, String)] = []
            func flush() {
                let width = group.map(\.0.count).max() ?? 0
                out += group.map { indent + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + " = " + $0.1 }
                group = []
            }
            for pair in pairs {
                if pair.1.contains("\n") {
                    flush()
                    out.append(indent + pair.0 + " = " + pair.1)
                } else {
                    group.append(pair)
                }
            }
            flush()
            return out
        }
        var lines = header.map { $0.isEmpty ? "#" : "# " + $0 }
        lines.append("")
        lines.append("data \"aws_caller_identity\" \"\(name)\" {}")
        lines.append("data \"aws_partition\" \"\(name)\" {}")
        lines.append("")
        lines.append("data \"aws_iam_policy_document\" \"\(name)\" {")
        for (index, statement) in statements.enumerated() {
            if index > 0 { lines.append("") }
            lines.append("  statement {")
            lines += attributes([("sid", value(statement.sid)), ("effect", "\"Allow\""), ("actions", list(statement.actions, indent: "    ")),
                                 ("resources", list(statement.resources, indent: "    "))], indent: "    ")
            for condition in statement.conditions {
                lines.append("    condition {")
                lines += attributes([("test", value(condition.test)), ("variable", value(condition.key)),
                                     ("values", list(condition.values, indent: "      "))], indent: "      ")
                lines.append("    }")
            }
            lines.append("  }")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}
