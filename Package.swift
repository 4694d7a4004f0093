// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "gold",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gold", targets: ["gold"]),
        .executable(name: "gold-agent", targets: ["gold-agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
    ],
    targets: [
        // Pure: the fleet model, fleet file, store protocol, auth rules. No sockets, no disks, no processes.
        .target(
            name: "GoldCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // TFTP: the pure codec, negotiation, path confinement and transfer state machine…
        .target(name: "GoldTFTP", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        // …and its thin NIO UDP adapter.
        .target(
            name: "GoldTFTPServer",
            dependencies: [
                "GoldTFTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The workflow engine: a pure reducer, and the runbook's workflows as lists of steps.
        .target(name: "GoldWorkflow", dependencies: ["GoldAPI", "GoldCore"], swiftSettings: swiftSettings),
        // DHCP/proxyDHCP: the pure codec, lease table and responder…
        .target(name: "GoldDHCP", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        // …and its NIO UDP adapter, bound to one interface.
        .target(
            name: "GoldDHCPServer",
            dependencies: [
                "GoldDHCP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The embedded store: SQLite through GRDB.
        .target(
            name: "GoldSQLite",
            dependencies: [
                "GoldCore", "GoldWorkflow", "GoldCompile",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The director's HTTP API.
        .target(
            name: "GoldDirector",
            dependencies: [
                "GoldAPI", "GoldCore", "GoldWorkflow", "GoldImage", "GoldCompile", "GoldSpawn",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // A small HTTP/1.1 client over NIO, for the CLI and the agent (links statically).
        .target(
            name: "GoldHTTPClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Power drivers: QEMU (QMP), IPMI (ipmitool), manual.
        .target(name: "GoldPower", dependencies: ["GoldCore", "GoldSpawn", .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        // The lab: a network namespace with a bridge, QEMU machines on taps, serial consoles.
        .target(name: "GoldLab", dependencies: ["GoldPower", "GoldSpawn", .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        // Runs workflows in the director: persists transitions, runs commands, reads observations from the event log.
        .target(
            name: "GoldRunner",
            dependencies: [
                "GoldCore", "GoldWorkflow",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The build/deploy server's network boot: HTTP boot and TFTP wired to the director.
        .target(
            name: "GoldDeploy",
            dependencies: [
                "GoldAPI", "GoldCore", "GoldTFTPServer", "GoldHTTPClient", "GoldDHCP", "GoldDHCPServer", "GoldImage", "GoldCompile",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Process wiring: configuration, services, one ServiceGroup per process.
        .target(
            name: "GoldServer",
            dependencies: [
                "GoldAPI", "GoldCore", "GoldSQLite", "GoldDirector", "GoldDeploy", "GoldTFTPServer", "GoldRunner", "GoldWorkflow", "GoldPower",
                "GoldHTTPClient", "GoldLab", "GoldNetboot", "GoldSpawn", "GoldImage", "GoldCompile", "GoldDoctor",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // The command line: one type per command.
        .target(
            name: "GoldCLI",
            dependencies: [
                "GoldAPI", "GoldCore", "GoldServer", "GoldImage", "GoldHTTPClient", "GoldTFTPServer", "GoldWorkflow", "GoldLab", "GoldNetboot", "GoldPower",
                "GoldDoctor", "GoldSpawn", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "gold", dependencies: ["GoldCLI"], swiftSettings: swiftSettings),
        // Disk images: per-machine images built without mounting, a content-addressed chunk store, serving.
        .target(
            name: "GoldImage",
            dependencies: ["GoldCore", "GoldSpawn", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The compile server: cache-keyed kernel and binary jobs, a leased queue, workers, a content-addressed artifact store.
        .target(
            name: "GoldCompile",
            dependencies: ["GoldCore", "GoldSpawn", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // What each role needs on its host (programs, files, disk, root), with the Debian package of each: `gold doctor`,
        // the checks before `gold serve` and the lab, and the package list scripts/setup.sh installs.
        .target(name: "GoldDoctor", swiftSettings: swiftSettings),
        // Running programs: argument vectors, own process group, signals reset, SIGKILL at the deadline.
        .target(name: "GoldSpawn", swiftSettings: swiftSettings),
        // The wire: request and response bodies, shared by the director, deploy server, agent and CLI. No server code.
        .target(name: "GoldAPI", swiftSettings: swiftSettings),
        .target(name: "GoldTestSupport", dependencies: ["GoldSpawn"], swiftSettings: swiftSettings),
        // Gold's certificate authority: the CA `gold init` creates and the server certificates it signs (P-256).
        .target(
            name: "GoldPKI",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"), .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        // The netboot environment: Debian's kernel and an initramfs with busybox, the agent and the workflow tools.
        .target(
            name: "GoldNetboot",
            dependencies: ["GoldSpawn", .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // The agent: Foundation, ArgumentParser and NIO only, so it links statically (-static-stdlib).
        .target(
            name: "GoldAgentKit",
            dependencies: ["GoldAPI", "GoldHTTPClient", "GoldCore", "GoldWorkflow", "GoldSpawn", "GoldImage",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),
        // Built for machines with scripts/build-agent.sh (-static-stdlib: needs only libc, libm, libstdc++, libgcc_s).
        .executableTarget(name: "gold-agent", dependencies: ["GoldAgentKit"], swiftSettings: swiftSettings),
        // Benchmarks/director-scale: the director with a fleet-sized store and simulated machines and agents (not in any product).
        .target(
            name: "GoldDirectorBench",
            dependencies: [
                "GoldAPI", "GoldCore", "GoldWorkflow", "GoldSQLite", "GoldDirector", "GoldRunner", "GoldHTTPClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/director-scale/GoldDirectorBench", swiftSettings: swiftSettings),
        .executableTarget(
            name: "gold-bench-director",
            dependencies: [
                "GoldDirectorBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Benchmarks/director-scale/gold-bench-director", swiftSettings: swiftSettings),
        // Benchmarks/image-build: per-machine image builds from a cached base, step by step, beside a plain pipeline.
        .executableTarget(
            name: "gold-bench-image",
            dependencies: [
                "GoldImage", "GoldCore", "GoldSpawn",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/image-build/gold-bench-image", swiftSettings: swiftSettings),

        .testTarget(name: "GoldTFTPTests", dependencies: ["GoldTFTP"]),
        .testTarget(
            name: "GoldTFTPServerTests",
            dependencies: [
                "GoldTFTPServer", "GoldTFTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "GoldDeployTests", dependencies: ["GoldAPI", "GoldDeploy", "GoldCore", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")], swiftSettings: swiftSettings),
        .testTarget(name: "GoldWorkflowTests", dependencies: ["GoldWorkflow", "GoldCore"], swiftSettings: swiftSettings),
        .testTarget(name: "GoldDHCPTests", dependencies: ["GoldDHCP", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(
            name: "GoldDHCPServerTests",
            dependencies: [
                "GoldDHCP", "GoldDHCPServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "GoldRunnerTests",
            dependencies: ["GoldRunner", "GoldWorkflow", "GoldCore", "GoldSQLite", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "GoldPKITests", dependencies: ["GoldPKI", .product(name: "X509", package: "swift-certificates")],
            swiftSettings: swiftSettings),
        .testTarget(name: "GoldSpawnTests", dependencies: ["GoldSpawn", "GoldTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "GoldNetbootTests", dependencies: ["GoldNetboot", "GoldSpawn", "GoldTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "GoldPowerTests", dependencies: ["GoldPower", "GoldCore", "GoldSpawn", "GoldTestSupport"], swiftSettings: swiftSettings),
        // The proxyDHCP lab test runs the built `gold` binary and builds the netboot environment.
        .testTarget(
            name: "GoldLabTests", dependencies: ["GoldSpawn", "GoldTestSupport", "GoldLab", "GoldPower", "GoldNetboot", "GoldHTTPClient", "gold"],
            swiftSettings: swiftSettings),
        .testTarget(name: "GoldImageTests", dependencies: ["GoldImage", "GoldCore", "GoldSpawn"], swiftSettings: swiftSettings),
        .testTarget(
            name: "GoldCompileTests", dependencies: ["GoldSpawn", "GoldTestSupport", "GoldCompile", "GoldCore", .product(name: "Logging", package: "swift-log")],
            exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(name: "GoldCoreTests", dependencies: ["GoldCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "GoldDoctorTests", dependencies: ["GoldDoctor", "GoldNetboot", "GoldImage", "GoldLab", "GoldDeploy", "GoldSpawn"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "GoldAgentTests",
            dependencies: ["GoldSpawn", "GoldTestSupport", 
                "GoldAgentKit", "GoldImage", "GoldCore", "GoldWorkflow", "GoldDeploy", "GoldTFTPServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "GoldStoreTests", dependencies: ["GoldCore", "GoldSQLite", "GoldCompile"], swiftSettings: swiftSettings),
        .testTarget(
            name: "GoldDirectorTests",
            dependencies: ["GoldAPI", 
                "GoldCore", "GoldSQLite", "GoldDirector", "GoldServer", "GoldHTTPClient", "GoldRunner", "GoldWorkflow", "GoldDirectorBench", "GoldSpawn",
                // The capture E2E runs the agent's handler against a live director.
                "GoldAgentKit", "GoldDeploy", "GoldTFTPServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GoldCLITests",
            dependencies: ["GoldCLI", "GoldCore", "GoldHTTPClient", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings),
        // Runs the built `gold` binary end to end.
        .testTarget(name: "GoldE2ETests", dependencies: ["gold", "GoldSpawn", "GoldHTTPClient"], swiftSettings: swiftSettings),
    ]
)
