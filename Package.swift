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

let package = Package(
    name: "MLToolkit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MLCore", targets: ["MLCore"]),
        .library(name: "MLCoreCLI", targets: ["MLCoreCLI"]),
        .executable(name: "mlcore", targets: ["mlcore"]),
        .library(name: "SkillLocalization", targets: ["SkillLocalization"]),
        .executable(name: "graft", targets: ["graft"]),
        .library(name: "REB", targets: ["REB"]),
        .executable(name: "reb", targets: ["reb"]),
        .library(name: "PregatedMoE", targets: ["PregatedMoE"]),
        .executable(name: "pregated-moe", targets: ["pregated-moe"]),
    ],
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
        .target(
            name: "SkillLocalization",
            dependencies: ["MLCore"],
            path: "Sources/SkillLocalization"),
        .executableTarget(
            name: "graft",
            dependencies: [
                "MLCore", "MLCoreCLI", "SkillLocalization",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/graft"),
        .target(
            name: "REB",
            dependencies: ["MLCore"],
            path: "Sources/REB",
            swiftSettings: numericFlags),
        .executableTarget(
            name: "reb",
            dependencies: [
                "MLCore", "MLCoreCLI", "REB",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/reb"),
        .target(
            name: "PregatedMoE",
            dependencies: ["MLCore"],
            path: "Sources/PregatedMoE"),
        .executableTarget(
            name: "pregated-moe",
            dependencies: [
                "MLCore", "MLCoreCLI", "PregatedMoE",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/pregated-moe"),
        .executableTarget(
            name: "mlcore-bench",
            dependencies: ["MLCore", "MLCoreCLI", "REB",
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
            name: "SkillLocalizationTests",
            dependencies: ["MLCore", "SkillLocalization"],
            path: "Tests/SkillLocalizationTests"),
        .testTarget(
            name: "REBTests",
            dependencies: ["MLCore", "REB"],
            path: "Tests/REBTests"),
        .testTarget(
            name: "PregatedMoETests",
            dependencies: ["MLCore", "PregatedMoE"],
            path: "Tests/PregatedMoETests"),
        .testTarget(
            name: "ToolTests",
            dependencies: ["MLCore"],
            path: "Tests/ToolTests"),
    ]
)
