// swift-tools-version: 6.2
// libFuzzer targets for Gold's packet codecs, protocol state machines and parsers; see README.md. Kept out of the main package so `swift build`
// and `swift test` there never compile them. Sources/GoldTFTP and Sources/GoldDHCP are symlinks to the main
// package's folders: the main package has no library products a path dependency could use.
import PackageDescription

// Instrument the codecs (coverage + AddressSanitizer) as well as the entry points.
let instrumented: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer,address", "-O"])]
let fuzzer: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library", "-O"])]
let linkFuzzer: [LinkerSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]

let package = Package(
    name: "gold-fuzz",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        .target(
            name: "GoldTFTP", dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: instrumented),
        .target(
            name: "GoldDHCP", dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: instrumented),
        .target(
            name: "GoldCore",
            dependencies: [.product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: instrumented),
        .target(name: "FuzzSupport", swiftSettings: instrumented),
        .target(name: "GoldRange", swiftSettings: instrumented),
        .target(name: "GoldAPI", swiftSettings: instrumented),
        .target(name: "GoldWorkflow", dependencies: ["GoldAPI", "GoldCore"], swiftSettings: instrumented),
        .executableTarget(
            name: "fuzz-json", dependencies: ["FuzzSupport", "GoldCore", "GoldWorkflow"],
            path: "json", swiftSettings: fuzzer, linkerSettings: linkFuzzer),
        .executableTarget(
            name: "fuzz-range", dependencies: ["FuzzSupport", "GoldRange"],
            path: "range", swiftSettings: fuzzer, linkerSettings: linkFuzzer),
        .executableTarget(
            name: "fuzz-dhcp-responder", dependencies: ["FuzzSupport", "GoldDHCP"],
            path: "dhcp-responder", swiftSettings: fuzzer, linkerSettings: linkFuzzer),
        .executableTarget(
            name: "fuzz-tftp-transfer", dependencies: ["FuzzSupport", "GoldTFTP", .product(name: "NIOCore", package: "swift-nio")],
            path: "tftp-transfer", swiftSettings: fuzzer, linkerSettings: linkFuzzer),
        .executableTarget(
            name: "fuzz-yaml", dependencies: ["FuzzSupport", "GoldCore"],
            path: "yaml", swiftSettings: fuzzer, linkerSettings: linkFuzzer),
        .executableTarget(
            name: "fuzz-tftp", dependencies: ["FuzzSupport", "GoldTFTP", .product(name: "NIOCore", package: "swift-nio")],
            path: "tftp", swiftSettings: fuzzer, linkerSettings: linkFuzzer),
        .executableTarget(
            name: "fuzz-dhcp", dependencies: ["FuzzSupport", "GoldDHCP"],
            path: "dhcp", swiftSettings: fuzzer, linkerSettings: linkFuzzer),
    ]
)
