import Foundation
import Testing

/// README.md and docs/*.md link to each other and to files of the repository: every relative link
/// must name a file that exists, and a `#fragment` a heading of that page.
@Suite struct DocumentationLinkTests {
    static let root = ActionsCommandTests.root

    static var pages: [URL] {
        let docs = root.appendingPathComponent("docs")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: docs.path)) ?? []
        return [root.appendingPathComponent("README.md")]
            + names.filter { $0.hasSuffix(".md") }.sorted().map { docs.appendingPathComponent($0) }
    }

    /// `[text](target)` outside code spans and fences; absolute URLs are not checked.
    static func relativeLinks(in markdown: String) -> [String] {
        var links: [String] = []
        var inFence = false
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inFence.toggle(); continue }
            if inFence { continue }
            // Drop code spans: a `[x](y)` inside backticks is not a link.
            let text = line.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 0 }
                .map(\.element).joined(separator: " ")
            var rest = Substring(text)
            while let open = rest.range(of: "](") {
                rest = rest[open.upperBound...]
                guard let close = rest.firstIndex(of: ")") else { break }
                let target = String(rest[..<close])
                if !target.contains("://"), !target.hasPrefix("mailto:") { links.append(target) }
                rest = rest[close...]
            }
        }
        return links
    }

    /// GitHub's anchors: lower-case, punctuation but hyphens and underscores dropped, spaces → hyphens.
    static func anchors(in markdown: String) -> Set<String> {
        Set(markdown.split(separator: "\n").filter { $0.hasPrefix("#") }.map { heading in
            let title = heading.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
            return String(title.compactMap { $0 == " " ? "-" : ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : nil) })
        })
    }

    @Test func everyRelativeLinkInTheReadmeAndDocsResolves() throws {
        #expect(Self.pages.count > 5, "README.md and docs/*.md not found under \(Self.root.path)")
        var checked = 0
        for page in Self.pages {
            let text = try String(contentsOf: page, encoding: .utf8)
            for link in Self.relativeLinks(in: text) {
                checked += 1
                let parts = link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let target = parts[0].isEmpty ? page : page.deletingLastPathComponent().appendingPathComponent(parts[0]).standardizedFileURL
                guard FileManager.default.fileExists(atPath: target.path) else {
                    Issue.record("\(page.lastPathComponent): link \(link): \(target.path) does not exist")
                    continue
                }
                if parts.count == 2, target.pathExtension == "md" {
                    let anchors = Self.anchors(in: try String(contentsOf: target, encoding: .utf8))
                    #expect(anchors.contains(parts[1]), "\(page.lastPathComponent): link \(link): no heading #\(parts[1]) in \(target.lastPathComponent)")
                }
            }
        }
        #expect(checked > 20, "only \(checked) links found: is the link scanner broken?")
    }

    @Test func linkScannerFindsLinksAndSkipsCode() {
        let links = Self.relativeLinks(in: "see [a](docs/a.md#x) and `[b](no.md)`\n```\n[c](no.md)\n```\n[d](https://e.org) [f](g.md)")
        #expect(links == ["docs/a.md#x", "g.md"])
        #expect(Self.anchors(in: "## Runs: outcomes, resume, abort and approvals\n### `aws.rds.fence-instance`")
                == ["runs-outcomes-resume-abort-and-approvals", "awsrdsfence-instance"])
    }
}
