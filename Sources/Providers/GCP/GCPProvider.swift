import DRCore
import Yams

/// Google Cloud (Cloud SQL Admin, Cloud DNS, GKE, Storage): its sites (`gcp:us-central1`) and its
/// `gcp:` plan section (`GCPPlanSection`, read by `GCPPlanSectionReader`).
public enum GCPProvider {
    public static let name = "gcp"
}

public struct GCPPlanSectionKind: PlanSectionKind {
    public init() {}
    public var key: String { GCPProvider.name }
    public var clouds: [SiteCloud] { [SiteCloud(name: GCPProvider.name, example: "us-central1", isRegion: Self.isRegionName)] }

    /// The sections an external primary may follow (`follows: aws:orders`).
    public static let followable = ["aws", "postgres"]

    public func decode(_ node: Node, context: PlanContext, decoder: inout PlanSectionDecoder) -> (any PlanSection)? {
        var reader = GCPPlanSectionReader(context: context, decoder: decoder)
        let section = reader.read(node)
        decoder = reader.decoder
        return section
    }

    /// `us-central1`, `europe-west4`, `northamerica-northeast2`: area, direction with its number.
    public static func isRegionName(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy({ ("a"..."z").contains($0) }),
              let last = parts.last, let digit = last.firstIndex(where: { ("0"..."9").contains($0) }), digit != last.startIndex else { return false }
        return last[..<digit].allSatisfy { ("a"..."z").contains($0) } && last[digit...].allSatisfy { ("0"..."9").contains($0) }
    }
}
