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
        var lines = header.map { $0.isEmpty ? "#" : "# " + $0 }
        lines.append("")
        lines.append("data \"aws_caller_identity\" \"\(name)\" {}")
        lines.append("data \"aws_partition\" \"\(name)\" {}")
        lines.append("")
        lines.append("data \"aws_iam_policy_document\" \"\(name)\" {")
        for (index, statement) in statements.enumerated() {
            if index > 0 { lines.append("") }
            lines.append("  statement {")
            lines.append("    sid       = \(value(statement.sid))")
            lines.append("    effect    = \"Allow\"")
            lines.append("    actions   = \(list(statement.actions, indent: "    "))")
            lines.append("    resources = \(list(statement.resources, indent: "    "))")
            for condition in statement.conditions {
                lines.append("    condition {")
                lines.append("      test     = \(value(condition.test))")
                lines.append("      variable = \(value(condition.key))")
                lines.append("      values   = \(list(condition.values, indent: "      "))")
                lines.append("    }")
            }
            lines.append("  }")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}
