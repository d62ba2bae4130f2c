import AWSProvider
import ArgumentParser
import DRCore
import Foundation

/// `drctl whoami`: who the AWS credentials belong to, where they came from, and which region
/// and endpoint drctl will use — the first thing to check before a failover.
struct WhoamiCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Show the AWS account and identity drctl acts as, where its credentials came from, and the region."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var aws: AWSOptions

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
}
