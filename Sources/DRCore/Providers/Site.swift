/// Where things run: a cloud and one of its regions (`aws:us-east-1`, `gcp:us-central1`,
/// `azure:eastus`). A bare region means AWS, and an AWS site is written bare, so every plan,
/// journal entry, step id and `--to us-west-2` from before sites existed reads the same.
public struct Site: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The provider's cloud name: `aws`, `gcp`, `azure`.
    public var cloud: String
    /// The region as the cloud names it.
    public var region: String

    public static let defaultCloud = "aws"

    public init(cloud: String, region: String) {
        self.cloud = cloud
        self.region = region
    }

    /// `cloud:region`, or a bare region (AWS). Syntax only: whether the cloud is one this build
    /// knows, and the region one of its names, is the providers' to say (`SiteCloud`).
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 1 {
            guard !text.isEmpty else { return nil }
            self.init(cloud: Self.defaultCloud, region: text)
        } else {
            guard !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
            self.init(cloud: String(parts[0]), region: String(parts[1]))
        }
    }

    public var description: String { cloud == Self.defaultCloud ? region : "\(cloud):\(region)" }

    /// The site in runbook names and step ids (`[a-z0-9-]`): `us-west-2`, `gcp-us-central1`.
    public var slug: String { cloud == Self.defaultCloud ? region : "\(cloud)-\(region)" }

    public static func < (lhs: Site, rhs: Site) -> Bool { (lhs.cloud, lhs.region) < (rhs.cloud, rhs.region) }
}

/// A cloud whose sites a plan may name: its name and how its regions are spelled, declared by the
/// provider that serves it. A plan naming another cloud, or a region its cloud does not spell that
/// way, is refused where it says so.
public struct SiteCloud: Sendable {
    public let name: String
    /// An example region for messages (`us-east-1`).
    public let example: String
    public let isRegion: @Sendable (String) -> Bool

    public init(name: String, example: String, isRegion: @escaping @Sendable (String) -> Bool) {
        self.name = name
        self.example = example
        self.isRegion = isRegion
    }
}

extension Site: ExpressibleByStringLiteral {
    /// A site written in code (`"us-west-2"`, `"gcp:us-central1"`); an empty literal is a programming error.
    public init(stringLiteral text: String) {
        guard let site = Site(parsing: text) else { preconditionFailure("'\(text)' is not a site") }
        self = site
    }
}
