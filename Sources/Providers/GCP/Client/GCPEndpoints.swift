import DRCore
import Foundation

/// A Google API as drctl calls it: its discovery name and the discovery document's `rootUrl`.
public struct GCPService: Sendable, Equatable, Hashable {
    /// The discovery name (`sqladmin`), which also names its endpoint override variable.
    public let name: String
    public let defaultRoot: String

    public init(name: String, defaultRoot: String) {
        self.name = name
        self.defaultRoot = defaultRoot
    }

    public static let sqladmin = GCPService(name: "sqladmin", defaultRoot: "https://sqladmin.googleapis.com/")
    public static let dns = GCPService(name: "dns", defaultRoot: "https://dns.googleapis.com/")
    public static let container = GCPService(name: "container", defaultRoot: "https://container.googleapis.com/")
    public static let monitoring = GCPService(name: "monitoring", defaultRoot: "https://monitoring.googleapis.com/")
    public static let storage = GCPService(name: "storage", defaultRoot: "https://storage.googleapis.com/")
    public static let storagetransfer = GCPService(name: "storagetransfer", defaultRoot: "https://storagetransfer.googleapis.com/")
    public static let iamcredentials = GCPService(name: "iamcredentials", defaultRoot: "https://iamcredentials.googleapis.com/")
    public static let sts = GCPService(name: "sts", defaultRoot: "https://sts.googleapis.com/")
    /// Google's OAuth2 endpoint: `token` (user credentials' refresh grant) and `tokeninfo`.
    public static let oauth2 = GCPService(name: "oauth2", defaultRoot: "https://oauth2.googleapis.com/")
    public static let cloudresourcemanager = GCPService(name: "cloudresourcemanager", defaultRoot: "https://cloudresourcemanager.googleapis.com/")

    /// gcloud's spelling: `CLOUDSDK_API_ENDPOINT_OVERRIDES_SQLADMIN` (`gcloud config set
    /// api_endpoint_overrides/sqladmin URL`), whose value replaces the root URL.
    public var overrideVariable: String { "CLOUDSDK_API_ENDPOINT_OVERRIDES_" + name.uppercased() }
}

/// Where each Google API is reached: its override variable when set, else the public root.
/// Roots always end in `/`, so `root + "v1/projects/p/instances/i"` is the request URL.
public struct GCPEndpoints: Sendable {
    let overrides: [String: String]

    /// Checks every override variable in `environment` (a malformed one is exit 10 at once, not a
    /// confusing transport error at the first call).
    public init(environment: [String: String]) throws {
        var overrides: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix("CLOUDSDK_API_ENDPOINT_OVERRIDES_") {
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased(),
                  scheme == "https" || scheme == "http", components.host?.isEmpty == false,
                  components.query == nil, components.fragment == nil else {
                throw GoogleAuthError(kind: .invalidConfiguration, source: name,
                                      message: "expected an http(s) root URL such as https://sqladmin.googleapis.com/")
            }
            overrides[name] = trimmed.hasSuffix("/") ? trimmed : trimmed + "/"
        }
        self.overrides = overrides
    }

    public func root(for service: GCPService) -> String { overrides[service.overrideVariable] ?? service.defaultRoot }
    public func isOverridden(_ service: GCPService) -> Bool { overrides[service.overrideVariable] != nil }
}
