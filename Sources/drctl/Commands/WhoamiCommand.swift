import AWSProvider
import ArgumentParser
import DRCore
import Foundation
import GCPProvider

/// `drctl whoami`: who the AWS credentials belong to, where they came from, and which region
/// and endpoint drctl will use — the first thing to check before a failover.
struct WhoamiCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Show the AWS account and identity drctl acts as, where its credentials came from, and the region."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var aws: AWSOptions
    @Option(name: .long, help: "Which provider to ask: aws (default); gcp — Google's Application Default Credentials; or postgres — each server of the --plan's postgres: section.")
    var cloud: String = "aws"
    @Option(name: .long, help: "gcp: act as this service account (a comma-separated chain ends with the target), as gcloud's flag; default: $CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT.")
    var impersonateServiceAccount: String?
    @Option(name: .long, help: "The DR plan, for providers whose endpoints it names (default: $DRCTL_PLAN, else ./drplan.yaml).")
    var plan: String?

    func validate() throws {
        let known = ProviderRegistration.all.map(\.section.key)
        guard known.contains(cloud) else { throw ValidationError("--cloud \(cloud): expected one of \(known.joined(separator: ", "))") }
    }

    struct Identity: Encodable {
        let account: String
        let arn: String
        let userId: String
        let credentialSource: String
        let region: String
        let regionSource: String
        let endpoint: String
        let endpointOverridden: Bool
    }

    func run() async throws {
        try global.bootstrapLogging()
        if cloud == GCPProvider.name { return try await gcp() }
        guard cloud == "aws" else { return try await otherProvider() }
        let context = try AWSContext(options: aws)
        let resolved = try await context.credentials.resolve()
        let region = try context.configuration.requireRegion()
        let caller = try await STSClient(client: context.client).getCallerIdentity(region: region)
        let endpoint = context.endpoints.endpoint(for: .sts, region: region)
        let identity = Identity(account: caller.account, arn: caller.arn, userId: caller.userId,
                                credentialSource: resolved.source.description, region: region,
                                regionSource: context.configuration.regionSource ?? "unknown",
                                endpoint: endpoint.url, endpointOverridden: endpoint.isConfigured)
        switch global.output {
        case .json:
            try JSONOutput.print(identity)
        case .text:
            print("""
            Account:      \(identity.account)
            ARN:          \(identity.arn)
            User ID:      \(identity.userId)
            Credentials:  \(identity.credentialSource)
            Region:       \(identity.region) (from \(identity.regionSource))
            STS endpoint: \(identity.endpoint)\(identity.endpointOverridden ? " (configured override)" : "")
            """)
        }
    }

    /// Google Cloud: Application Default Credentials, which no plan names. Goes through the provider
    /// seam's registration; asks the provider's throwing `identity()` rather than `identities(plan:)`,
    /// so that a malformed key file ends with exit 10 and an unreachable token endpoint with 9, not
    /// every failure with 8.
    private func gcp() async throws {
        var context = ProviderContext.declarationsOnly
        context.gcpImpersonation = impersonateServiceAccount
        guard let provider = ProviderRegistration.providers(context).first(where: { $0.name == cloud }) as? GCPCloudProvider else {
            throw RunEnded(status: .usage, message: "this drctl has no \(cloud) provider")
        }
        let identity = try await provider.identity()
        switch global.output {
        case .json: try JSONOutput.print(identity)
        case .text:
            let project = identity.project.map { project in identity.projectSource.map { "\(project) (from \($0))" } ?? project }
            print("""
            Principal:     \(identity.principal)
            Project:       \(project ?? "none (set GOOGLE_CLOUD_PROJECT)")
            Quota project: \(identity.quotaProject ?? "none (the project of each resource pays)")
            Credentials:   \(identity.credentialSource)
            """)
        }
    }

    /// A provider other than AWS: who drctl is at each endpoint the plan names for it.
    private func otherProvider() async throws {
        let path = plan ?? ProcessInfo.processInfo.environment["DRCTL_PLAN"] ?? "drplan.yaml"
        let drPlan = try DRPlanLoader.load(path: path, sections: ProviderRegistration.sections)
        guard let provider = ProviderRegistration.providers(.declarationsOnly).first(where: { $0.name == cloud }) else {
            throw RunEnded(status: .usage, message: "this drctl has no \(cloud) provider yet: its sites can be named in a plan, nothing else")
        }
        let identities = await provider.identities(plan: drPlan)
        switch global.output {
        case .json: try JSONOutput.print(identities)
        case .text:
            if identities.isEmpty { print("plan \(drPlan.name) names no \(cloud) endpoints") }
            for identity in identities {
                print(identity.endpoint)
                if let error = identity.error { print("  not reachable: \(error)") }
                for fact in identity.facts { print("  \(fact.name): \(fact.value)") }
            }
        }
        if identities.contains(where: { $0.error != nil }) {
            throw RunEnded(status: .authenticationFailed, message: "not every \(cloud) endpoint of plan \(drPlan.name) answered (above)")
        }
    }
}
