import DRCore
import Yams

/// Microsoft Azure (PostgreSQL Flexible Server, SQL failover groups, Blob, DNS). Its actions arrive
/// with the Azure issue. What exists now: its sites (`azure:eastus`), so that a plan can name them
/// as DR sites, and an `azure:` section that is refused until this build can act on it.
public enum AzureProvider {
    public static let name = "azure"
}

public struct AzurePlanSectionKind: PlanSectionKind {
    public init() {}
    public var key: String { AzureProvider.name }
    public var clouds: [SiteCloud] { [SiteCloud(name: AzureProvider.name, example: "eastus", isRegion: Self.isRegionName)] }

    public func decode(_ node: Node, context: PlanContext, decoder: inout PlanSectionDecoder) -> (any PlanSection)? {
        decoder.report(at: context.sectionLocation, "found the section 'azure', expected none yet: this drctl has no Azure provider and would ignore these resources")
        return nil
    }

    /// `eastus`, `eastus2`, `westeurope`, `southcentralus`: lower-case letters, then optional digits.
    public static func isRegionName(_ text: String) -> Bool {
        guard let first = text.first, ("a"..."z").contains(first) else { return false }
        let letters = text.prefix { ("a"..."z").contains($0) }
        return text.dropFirst(letters.count).allSatisfy { ("0"..."9").contains($0) } && letters.count >= 4
    }
}
