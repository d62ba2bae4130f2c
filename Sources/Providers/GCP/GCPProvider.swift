import DRCore
import Yams

/// Google Cloud (Cloud SQL Admin, GCS, Cloud DNS). Its actions arrive with the GCP issue; the
/// RS256 signer it needs for service-account JWTs is `DRCore.RSASigner`. What exists now: its sites
/// (`gcp:us-central1`), so that a plan can name them as DR sites, and a `gcp:` section that is
/// refused until this build can act on it (a move that silently ignored it would report a
/// success that did not happen).
public enum GCPProvider {
    public static let name = "gcp"
}

public struct GCPPlanSectionKind: PlanSectionKind {
    public init() {}
    public var key: String { GCPProvider.name }
    public var clouds: [SiteCloud] { [SiteCloud(name: GCPProvider.name, example: "us-central1", isRegion: Self.isRegionName)] }

    public func decode(_ node: Node, context: PlanContext, decoder: inout PlanSectionDecoder) -> (any PlanSection)? {
        decoder.report(at: context.sectionLocation, "found the section 'gcp', expected none yet: this drctl has no GCP provider and would ignore these resources")
        return nil
    }

    /// `us-central1`, `europe-west4`, `northamerica-northeast2`: area, direction with its number.
    public static func isRegionName(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy({ ("a"..."z").contains($0) }),
              let last = parts.last, let digit = last.firstIndex(where: { ("0"..."9").contains($0) }), digit != last.startIndex else { return false }
        return last[..<digit].allSatisfy { ("a"..."z").contains($0) } && last[digit...].allSatisfy { ("0"..."9").contains($0) }
    }
}
