// swift-tools-version:6.0
import PackageDescription

/// The numeric code is compiled for the AVX2 + FMA baseline (Haswell and later, every x86-64 machine of
/// this project's kind); without it SIMD8<Float> arithmetic lowers to SSE or scalar calls. Set
/// MLCORE_TARGET_CPU to build for another CPU (e.g. `x86-64` for a portable binary).
let targetCPU = Context.environment["MLCORE_TARGET_CPU"] ?? "haswell"
#if arch(x86_64)
let numericFlags: [SwiftSetting] = targetCPU.isEmpty ? [] : [.unsafeFlags(["-target-cpu", targetCPU])]
#else
let numericFlags: [SwiftSetting] = []
#endif

/// One paper of the toolkit: its method library `Sources/<library>` (MLCore only), its executable
/// `Tools/<tool>` (the library, MLCore, MLCoreCLI, ArgumentParser) and its tests `Tests/<library>Tests`
/// (MLCore and the library). `numeric` compiles the library with `numericFlags` (hot SIMD loops).
/// Adding a paper is one line in `papers` below (and one word in the Makefile's PAPERS).
struct Paper {
    let library: String
    let tool: String
    var numeric = false

    var products: [Product] {
        [.library(name: library, targets: [library]), .executable(name: tool, targets: [tool])]
    }

    var targets: [Target] {
        [
            .target(name: library, dependencies: ["MLCore"], path: "Sources/\(library)",
                    swiftSettings: numeric ? numericFlags : nil),
            .executableTarget(
                name: tool,
                dependencies: [
                    "MLCore", "MLCoreCLI", .byName(name: library),
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                ],
                path: "Tools/\(tool)"),
            .testTarget(name: "\(library)Tests", dependencies: ["MLCore", .byName(name: library)],
                        path: "Tests/\(library)Tests"),
        ]
    }
}

let papers = [
    Paper(library: "SkillLocalization", tool: "graft"),
    Paper(library: "REB", tool: "reb", numeric: true),
    Paper(library: "PregatedMoE", tool: "pregated-moe"),
    Paper(library: "PFAMI", tool: "pfami", numeric: true),
    Paper(library: "PROP", tool: "prop"),
]

let package = Package(
    name: "MLToolkit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MLCore", targets: ["MLCore"]),
        .library(name: "MLCoreCLI", targets: ["MLCoreCLI"]),
        .executable(name: "mlcore", targets: ["mlcore"]),
    ] + papers.flatMap(\.products),
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CImageCodecs", path: "Sources/CImageCodecs", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev", "libjpeg-dev"])]),
        .target(
            name: "MLCore",
            dependencies: [
                "CBLAS", "CHDF5", "CZlib", "CImageCodecs", "CCrypto",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            path: "Sources/MLCore",
            swiftSettings: numericFlags),
        .target(
            name: "MLCoreCLI",
            dependencies: [
                "MLCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/MLCoreCLI"),
        .executableTarget(
            name: "mlcore",
            dependencies: [
                "MLCore", "MLCoreCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/mlcore"),
        .executableTarget(
            name: "mlcore-bench",
            dependencies: ["MLCore", "MLCoreCLI", "REB", "PFAMI",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/mlcore-bench",
            swiftSettings: numericFlags),
        .testTarget(
            name: "MLCoreTests",
            dependencies: ["MLCore"],
            path: "Tests/MLCoreTests"),
        .testTarget(
            name: "MLCoreCLITests",
            dependencies: ["MLCore", "MLCoreCLI",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tests/MLCoreCLITests"),
        .testTarget(
            name: "ToolTests",
            dependencies: ["MLCore"],
            path: "Tests/ToolTests"),
    ] + papers.flatMap(\.targets)
)
