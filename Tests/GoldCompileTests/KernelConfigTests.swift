import Foundation
import GoldCore
import Testing

@testable import GoldCompile

@Suite struct KernelConfigTests {
    /// The final `.config` of linux-source-6.1 tinyconfig + the lab fragment, as `make olddefconfig` wrote it.
    static func fixture() throws -> KernelConfig {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures/tinyconfig-lab.config"
        return KernelConfig(parsing: try String(contentsOfFile: path, encoding: .utf8))
    }

    @Test func parsesValuesAndNotSetLines() throws {
        let config = try Self.fixture()
        #expect(config.values["CONFIG_64BIT"] == "y")
        #expect(config.values["CONFIG_MODULES"] == "n")
        #expect(config.values["CONFIG_LOCALVERSION"] == "\"-gold-lab\"")
        #expect(config.values["CONFIG_HZ"] == "250")
        #expect(config.values.count > 1000)
    }

    static let cases: [(fragment: String, survives: Bool)] = [
        ("CONFIG_64BIT=y", true),
        ("CONFIG_VIRTIO_BLK=y", true),
        ("CONFIG_LOCALVERSION=\"-gold-lab\"", true),
        ("CONFIG_LOCALVERSION=\"-other\"", false),
        ("CONFIG_HZ=250", true),
        ("# CONFIG_MODULES is not set", true),
        ("CONFIG_MODULES=n", true),
        ("CONFIG_MODULES=y", false),
        ("CONFIG_VIRTIO_BLK=m", false),
        ("CONFIG_GOLD_DOES_NOT_EXIST=y", false),
        ("# CONFIG_GOLD_DOES_NOT_EXIST is not set", true),
        ("CONFIG_EXT4_FS=n", false),
    ]

    @Test(arguments: cases) func verifiesRequestedOptions(_ fragment: String, _ survives: Bool) throws {
        let request = try #require(KernelFragment(fragment))
        let mismatches = try Self.fixture().mismatches([request])
        #expect(mismatches.isEmpty == survives)
        if !survives { #expect(mismatches.first?.option == request.option) }
    }

    @Test func mismatchNamesTheOptionAndWhatCameOut() throws {
        let requested = ["CONFIG_GOLD_DOES_NOT_EXIST=y", "CONFIG_MODULES=y", "CONFIG_PRINTK=y"].compactMap(
            KernelFragment.init)
        let text = try Self.fixture().mismatches(requested).map(\.description)
        #expect(text == ["CONFIG_GOLD_DOES_NOT_EXIST=y (final: absent)", "CONFIG_MODULES=y (final: CONFIG_MODULES=n)"])
    }

    @Test func fragmentFileMergesLocalVersion() throws {
        let inputs = KernelInputs(
            sourceName: "debian:linux-source-6.1",
            source: SourceInput(layout: .tarball, path: "/x", identity: "sha256:0"),
            base: "tinyconfig", baseIdentity: "tinyconfig",
            fragments: try InputResolver.canonicalFragments(
                ["CONFIG_PRINTK=y", "CONFIG_LOCALVERSION=\"-x\"", "CONFIG_MODULES=n"], machine: "m"),
            localVersion: "-gold-lab", toolchain: "gcc")
        #expect(
            KernelConfig.fragmentFile(inputs.requestedOptions)
                == "CONFIG_LOCALVERSION=\"-gold-lab\"\n# CONFIG_MODULES is not set\nCONFIG_PRINTK=y\n")
    }
}
