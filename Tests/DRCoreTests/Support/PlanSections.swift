import AWSProvider
import AzureProvider
import DRCore
import GCPProvider
import PostgresProvider

/// The plan sections drctl registers (`ProviderRegistration.sections` in the executable), for
/// tests that load plans.
enum PlanSections {
    static let all: [any PlanSectionKind] = [AWSPlanSectionKind(), PostgresPlanSectionKind(), GCPPlanSectionKind(), AzurePlanSectionKind()]
}
