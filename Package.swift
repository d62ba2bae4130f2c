// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "drctl",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "drctl", targets: ["drctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // System libraries. Each one is wrapped by exactly one Swift target; C types stay there.
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]),
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"]), .brew(["libpq"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]),
        // fork/exec of child processes with PR_SET_PDEATHSIG, from one long-lived thread (see spawn.c).
        .target(name: "CProcess", path: "Sources/CProcess"),

        .target(
            name: "DRCore",
            dependencies: [
                "CCurl", "CLibPQ", "COpenSSL", "CSQLite", "CProcess",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "AWSProvider",
            dependencies: ["DRCore", .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams")],
            path: "Sources/Providers/AWS"
        ),
        // Self-managed PostgreSQL (VMs, on-premises, any server libpq reaches) as a provider of plans.
        .target(name: "PostgresProvider", dependencies: ["DRCore", .product(name: "Yams", package: "Yams")], path: "Sources/Providers/Postgres"),
        .target(name: "GCPProvider", dependencies: ["DRCore", .product(name: "Yams", package: "Yams")], path: "Sources/Providers/GCP"),
        .target(name: "AzureProvider", dependencies: ["DRCore", .product(name: "Yams", package: "Yams")], path: "Sources/Providers/Azure"),
        .executableTarget(
            name: "drctl",
            dependencies: [
                "DRCore", "AWSProvider", "PostgresProvider", "GCPProvider", "AzureProvider",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `swift run -c release drctl-bench`: SigV4 and round-trip figures against botocore.
        .executableTarget(
            name: "drctl-bench",
            dependencies: ["DRCore", "AWSProvider"],
            path: "Benchmarks/drctl-bench"
        ),
        // `swift run -c release drctl-store-bench`: journal append and load costs of the SQLite store.
        .executableTarget(name: "drctl-store-bench", dependencies: ["DRCore"], path: "Benchmarks/drctl-store-bench"),

        // `swift run -c release drctl-engine-bench`: engine overhead and resume time with the journal.
        .executableTarget(
            name: "drctl-engine-bench",
            dependencies: ["DRCore"],
            path: "Benchmarks/drctl-engine-bench"
        ),
        // Plan-loading tests read real provider sections (aws:, postgres:) through the one seam.
        // `swift run -c release drctl-plan-bench N`: load, validate and generate the failover of a plan of N databases.
        .executableTarget(name: "drctl-plan-bench", dependencies: ["DRCore", "AWSProvider", "PostgresProvider"], path: "Benchmarks/drctl-plan-bench"),
        .testTarget(name: "DRCoreTests", dependencies: ["DRCore", "AWSProvider", "PostgresProvider", "GCPProvider", "AzureProvider"], resources: [.copy("Fixtures")]),
        .testTarget(name: "AWSProviderTests", dependencies: ["AWSProvider", "PostgresProvider", "GCPProvider", "AzureProvider", "DRCore", .product(name: "Yams", package: "Yams")],
                    resources: [.copy("Fixtures")]),
        // Google credentials and the GCP client; google-auth (Python) judges what drctl signs.
        .testTarget(name: "GCPProviderTests", dependencies: ["GCPProvider", "DRCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "drctlTests", dependencies: ["DRCore", "drctl"]),
    ]
)

// Fuzz targets exist only when `DRCTL_FUZZ` is set, so that the default build stays as it was:
// `scripts/fuzz.sh` builds `drctl-fuzz` with `-sanitize=fuzzer` into its own scratch path.
if Context.environment["DRCTL_FUZZ"] != nil {
    package.targets.append(.executableTarget(
        name: "drctl-fuzz",
        dependencies: ["DRCore", "AWSProvider", "PostgresProvider", "GCPProvider", "AzureProvider"],
        path: "Fuzz/drctl-fuzz"
    ))
}
